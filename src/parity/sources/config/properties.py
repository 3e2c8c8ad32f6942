"""A ``.properties`` reader (Java's format, simplified): flat ``key -> value``.

No standard-library parser reads it (configparser needs a section header and has other comment and
continuation rules). Supported, as in ``java.util.Properties``:
``#``/``!`` comments, ``=``/``:``/whitespace separators, a line ending in an odd number of
backslashes continues on the next line, escapes ``\\t \\n \\r \\f \\uXXXX`` and ``\\X`` -> ``X``;
a key alone has the empty value. A malformed ``\\u`` escape is an error, as in Java.
"""

from __future__ import annotations

import re

from parity.errors import InputError

_ESC = re.compile(r"\\(u[0-9A-Fa-f]{4}|u|.)", re.DOTALL)
_SIMPLE = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_EOL = re.compile(r"\r\n|\r|\n")
_SEP = re.compile(r"(?<!\\)(?:\\\\)*(?P<sep>[ \t\f]*[=:][ \t\f]*|[ \t\f]+)")


def _unescape(s: str, shown: str, line: int) -> str:
    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if e == "u":
            raise InputError(shown, "malformed \\uXXXX escape", line)
        if len(e) == 5:
            return chr(int(e[1:], 16))
        return _SIMPLE.get(e, e)

    out = _ESC.sub(one, s)
    if "\\u" in s and not out.isascii():
        # Java writes a character outside the BMP as two escapes (a surrogate pair): join them; one left alone
        # is no character at all
        try:
            out = out.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(shown, "a \\uXXXX escape is half of a surrogate pair: not a character", line) from None
    return out


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Physical lines joined where one ends in an odd number of backslashes, with first line numbers."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for no, line in enumerate(_EOL.split(text), 1):  # \n, \r\n or a lone \r (old Mac files), as in Java
        part = line.lstrip(" \t\f") if buf else line
        if not buf:
            start = no
            if not part.strip() or part.lstrip(" \t\f").startswith(("#", "!")):
                continue
        trailing = len(part) - len(part.rstrip("\\"))
        if trailing % 2 == 1:
            buf.append(part[:-1])
            continue
        buf.append(part)
        out.append((start, "".join(buf)))
        buf = []
    if buf:
        out.append((start, "".join(buf)))
    return out


def parse_properties(text: str, shown: str) -> dict[str, str]:
    """``key -> value`` of a ``.properties`` file; a later duplicate key wins, as in Java."""
    result: dict[str, str] = {}
    for line_no, logical in _logical_lines(text):
        body = logical.lstrip(" \t\f")
        m = _SEP.search(body)
        if m is None:
            key_raw, value_raw = body, ""
        else:
            key_raw, value_raw = body[: m.start("sep")], body[m.end("sep") :]
        result[_unescape(key_raw, shown, line_no)] = _unescape(value_raw, shown, line_no)
    return result
