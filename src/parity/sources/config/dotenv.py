"""A small ``.env`` reader.

python-dotenv is not a dependency, and its reader is lenient in ways that hide mistakes (it skips a
line it cannot parse with a warning); a declared input must either read exactly or fail with its
file and line. The grammar follows what docker compose and python-dotenv accept:

- blank lines and ``# comments``; an optional ``export`` before the key;
- ``KEY=value`` (unquoted: ends at a `` #`` comment, a ``#`` after whitespace; surrounding whitespace trimmed;
  ``KEY=`` is empty, ``KEY=#ff0000`` is ``#ff0000``);
- ``KEY="value"``: escapes ``\\n \\r \\t \\" \\\\ \\$`` decoded, others kept as written; may span lines;
- ``KEY='value'``: literal, may span lines (a line break inside a quoted value is ``\\n`` whether the
  file ends its lines with LF or CRLF);
- ``${VAR}`` references are kept as written (parity compares what the file declares).

A later duplicate key wins, as in a shell.
"""

from __future__ import annotations

import re

from parity.errors import InputError

_KEY = re.compile(r"[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*=[ \t]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}
_AFTER_QUOTE = re.compile(r"[ \t]*(?:#.*)?")


def _double_quoted(text: str, start: int) -> tuple[str, int] | None:
    """Decode a double-quoted value whose opening quote is at ``start - 1``: (value, end) or None."""
    out: list[str] = []
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    return None


def parse_dotenv(text: str, shown: str) -> dict[str, str]:
    """``KEY -> value`` of a ``.env`` file, or InputError naming the bad line."""
    result: dict[str, str] = {}
    if "\r\n" in text:  # a file saved with CRLF reads as the same file with LF (a quoted value may span lines)
        text = text.replace("\r\n", "\n")
    pos = 0
    n = len(text)
    line_no, counted = 1, 0  # line of `pos`, counted incrementally (a count from 0 per line is quadratic)
    while pos < n:
        line_no += text.count("\n", counted, pos)
        counted = pos
        eol = text.find("\n", pos)
        eol = n if eol == -1 else eol
        line = text[pos:eol]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            pos = eol + 1
            continue
        m = _KEY.match(line)
        if m is None:
            raise InputError(shown, "not a KEY=VALUE line, comment or blank line", line_no)
        key = m["key"]
        vstart = pos + m.end()
        first = text[vstart] if vstart < n else ""
        if first in ("'", '"'):
            if first == '"':
                parsed = _double_quoted(text, vstart + 1)
            else:
                close = text.find("'", vstart + 1)
                parsed = None if close == -1 else (text[vstart + 1 : close], close + 1)
            if parsed is None:
                raise InputError(shown, f"{key}: the quoted value is never closed", line_no)
            value, end = parsed
            tail_end = text.find("\n", end)
            tail_end = n if tail_end == -1 else tail_end
            if _AFTER_QUOTE.fullmatch(text[end:tail_end].rstrip("\r")) is None:
                bad_line = text.count("\n", 0, end) + 1
                raise InputError(shown, f"{key}: unexpected text after the closing quote", bad_line)
            result[key] = value
            pos = tail_end + 1
        else:
            # a comment starts at a `#` after whitespace (the whitespace after `=` counts): `KEY=#ff0000` is a
            # value, as in docker compose and python-dotenv, `KEY= # note` is empty
            raw = text[vstart - 1 : eol] if text[vstart - 1] in " \t" else text[vstart:eol]
            comment = re.search(r"[ \t]#", raw)
            if comment is not None:
                raw = raw[: comment.start()]
            result[key] = raw.strip()
            pos = eol + 1
    return result
