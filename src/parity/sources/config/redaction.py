"""Redaction of secret-looking values in parsed config trees and inside embedded text.

Shared by the ``config`` and ``kubernetes-manifests`` sources. A value is replaced by the redactor's
keyed-hash marker when:

- its key, or the key of any mapping or list it sits in, looks secret (:func:`parity.redact.looks_secret`)
  and it is a non-empty string or a number (booleans and null carry nothing secret, and "empty" is
  worth seeing: a password missing in one environment is a finding). So everything below
  ``secrets: {stripe: ...}`` or ``db_password: {prod: ...}`` is hashed, names included;
- it is the ``default`` or ``value`` of a mapping with ``sensitive: true`` (Terraform ``variable`` and
  ``output`` blocks read from ``.tf`` files);
- it is the ``value`` of a ``{name|key: X, value: V}`` item whose X looks secret (container ``env``
  lists, ECS task definitions, many Helm ``extraEnv`` values);
- it follows a secret-looking command-line flag in a list of arguments: ``--db-password=x`` (the part
  after ``=``) or the item after ``--db-password``;
- it sits on a ``KEY = value`` / ``key: value`` / ``KEY=value`` line of a string (an embedded config
  file in YAML, a ``DB_PASSWORD=x`` item of a docker-compose ``environment`` list) whose key looks
  secret: only the value part of that line is replaced, so the rest stays comparable line by line;
- a string that is a JSON object or array (a ConfigMap's ``config.json: '{"db_password": ...}'``) is
  redacted by these rules as parsed JSON and written back compactly when anything in it was replaced;
- it is the password of a URL's user information (``postgres://user:PASSWORD@host/db``), in any string
  (:func:`parity.redact.redact_url_passwords`, the pattern the cloud sources use too);
- it is the value of a secret-keyed ``KEY=value`` pair inside a line: a URL query parameter
  (``?password=x&``), a connection-string part (``Server=db;Password=x;``), a libpq keyword
  (``host=db password=x``), a flag in a command line (``--password=x``, ``--api-key x``, ``-Ddb.password=x``);
- it is a credential by its shape, whatever its key: an ``Authorization`` header's value, ``Bearer x``,
  a PEM private key's body, well-known token formats (GitHub, GitLab, Stripe, Slack, Google, npm).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection

import orjson

from parity.model import Json, json_in_text
from parity.redact import Redactor, is_redacted, looks_secret, redact_url_passwords

# One "key <sep> value" line: optional indent / `export ` / list dash, an optionally quoted key,
# `=` or `:` as separator, then the rest of the line (the value and trailing whitespace).
_LINE = re.compile(
    r"""(?P<pre>[ \t]*(?:-[ \t]+)?(?:export[ \t]+|set[ \t]+|--?)?)
        (?P<q>["']?)(?P<key>[A-Za-z_][\w.\-]*)(?P=q)
        (?P<sep>[ \t]*[:=][ \t]*)
        (?P<rest>.*)""",
    re.VERBOSE | re.DOTALL,
)
# A quoted value, possibly followed by the `,` or `;` that ends it in JSON, HCL or code.
_QUOTED = re.compile(r"""(?P<q>["'])(?P<inner>.*)(?P=q)(?P<punct>[,;]?)""", re.DOTALL)
# YAML block scalar indicators: the value is on the following, more indented lines.
_BLOCK = re.compile(r"[|>][+-]?[0-9]?[+-]?")
# A command-line flag with a secret-looking name and no value of its own: the next argument is its value.
_FLAG = re.compile(r"--?(?P<key>[A-Za-z_][\w.\-]*)")


# A `KEY=value` pair inside a line, not at its start: a URL query parameter (`?password=x&`), a
# connection-string part (`Server=db;Password=x;`), a libpq keyword (`host=db password=x`), a command-line
# flag (`--password=x`, `-Ddb.password=x`). Only the `KEY=` part is matched: the value is taken when KEY
# looks secret, so a value holding another pair (`conn=Password=x`) is still searched.
_PAIR = re.compile(r"(?:^|(?<=[\s;&?,(\[{]))(?:--?|-D)?(?P<key>[A-Za-z_][\w.\-]*)[ \t]*=[ \t]*")
_PAIR_VALUE = re.compile(r""""[^"]*"|'[^']*'|[^\s;&,"'<>]+|<redacted:[0-9a-f]+>""")
# `--password VALUE` inside a command line held in one string.
_FLAG_SPACE = re.compile(r"(?:^|(?<=\s))--?(?P<key>[A-Za-z_][\w.\-]*)[ \t]+(?=[^\s\-])")
# Secret by their shape, whatever the key: an HTTP credential and well-known token formats.
_BEARER = re.compile(r"(?:^|(?<=[\s\"':=]))Bearer[ \t]+(?=[A-Za-z0-9._~+/\-]{8,})")
_SHAPED = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|[sr]k_live_[A-Za-z0-9]{10,}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}|glpat-[A-Za-z0-9_\-]{20,}|AIza[0-9A-Za-z_\-]{35}|npm_[A-Za-z0-9]{36})\b"
)
_PRIVATE_KEY = re.compile(
    r"(?P<head>-----BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY)-----)(?P<body>.*?)(?P<tail>-----END (?P=kind)-----|\Z)",
    re.DOTALL,
)
# Names of HTTP headers that carry a credential (not secret-sounding words, so parity.redact misses them).
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "proxy_authorization"})


@functools.lru_cache(maxsize=8192)
def secret_name(name: str) -> bool:
    """:func:`parity.redact.looks_secret`, plus HTTP credential headers (``Authorization``)."""
    return looks_secret(name) or name.strip().lower() in _SECRET_HEADERS


def _redact_shapes(text: str, redactor: Redactor) -> str:
    """Private keys (PEM), ``Bearer`` credentials and well-known token formats, wherever they sit."""
    if "PRIVATE KEY-----" in text:
        text = _PRIVATE_KEY.sub(lambda m: m["head"] + _pem_body(m["body"], redactor) + m["tail"], text)
    if "Bearer" in text:
        text = _sub_value(_BEARER, text, redactor, lambda _m: True, _PAIR_VALUE)
    return _SHAPED.sub(lambda m: redactor.redact(m[0]), text)


def _pem_body(body: str, redactor: Redactor) -> str:
    core = body.strip()
    if not core or is_redacted(core):
        return body
    lead = body[: len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()) :]
    return lead + redactor.redact("".join(core.split())) + trail


def _sub_value(
    pattern: re.Pattern[str],
    line: str,
    redactor: Redactor,
    secret: Callable[[re.Match[str]], bool],
    value: re.Pattern[str],
) -> str:
    """``line`` with the value after each ``pattern`` match for which ``secret`` holds replaced by a marker."""
    out: list[str] = []
    pos = 0
    while (m := pattern.search(line, pos)) is not None:  # every pattern matches at least one character
        out.append(line[pos : m.end()])
        pos = m.end()
        v = value.match(line, pos) if secret(m) else None
        if v is None:
            continue
        raw = v[0]
        if is_redacted(raw):
            out.append(raw)
        elif raw[:1] in ("'", '"'):
            out.append(raw[0] + (redactor.redact(raw[1:-1]) if len(raw) > 2 else "") + raw[-1])
        else:
            out.append(redactor.redact(raw))
        pos = v.end()
    out.append(line[pos:])
    return "".join(out)


def _redact_pairs(line: str, redactor: Redactor) -> str:
    """Secret-keyed ``KEY=value`` pairs and ``--secret-flag value`` inside one line (see :data:`_PAIR`)."""
    if "=" in line:
        line = _sub_value(_PAIR, line, redactor, lambda m: secret_name(m["key"]), _PAIR_VALUE)
    if "-" in line:
        line = _sub_value(_FLAG_SPACE, line, redactor, lambda m: secret_name(m["key"]), _PAIR_VALUE)
    return line


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def redact_text(text: str, redactor: Redactor) -> str:
    """``text`` with the value of every secret-keyed ``key = value`` line replaced by a marker.

    Recognised lines: ``password = x``, ``password: x``, ``PASSWORD=x``, ``export TOKEN="x"``,
    ``"api_key": "x",``, ``- DB_PASSWORD=x``; a YAML block scalar (``password: |``) has its
    following more-indented lines replaced as one value.
    """
    text = _redact_shapes(text, redactor)
    if "=" not in text and ":" not in text and _FLAG_SPACE.search(text) is None:
        return text
    text = redact_url_passwords(text, redactor)  # the one pattern, shared with the cloud sources
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = _LINE.fullmatch(line)
        val = m["rest"].rstrip(" \t\r\f\v") if m is not None else ""
        if m is None or not val or not secret_name(m["key"]):
            out.append(_redact_pairs(line, redactor))
            continue
        post = m["rest"][len(val) :]
        head = m["pre"] + m["q"] + m["key"] + m["q"] + m["sep"]
        if ":" in m["sep"] and _BLOCK.fullmatch(val):
            # A YAML block scalar: the secret is the block of deeper-indented lines below.
            base = _indent(line)
            j = i
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
                j += 1
            block = lines[i:j]
            while block and not block[-1].strip():
                block.pop()
            if block:
                pad = " " * min(_indent(b) for b in block if b.strip())
                out.append(line)
                out.append(pad + redactor.redact("\n".join(b.strip() for b in block)))
                out.extend(lines[i + len(block) : j])
                i = j
            else:
                out.append(line)
            continue
        q = _QUOTED.fullmatch(val)
        if q is not None and q["inner"]:
            redacted = q["q"] + redactor.redact(q["inner"]) + q["q"] + q["punct"]
        elif q is not None or is_redacted(val):
            out.append(line)  # an empty quoted value, or already a marker
            continue
        else:
            redacted = redactor.redact(val)
        out.append(head + redacted + post)
    return "\n".join(out)


def _name_of_pair(d: dict[str, Json]) -> tuple[str, str] | None:
    """``(name, value-key)`` when ``d`` is a ``{name|key: X, value: V}`` item, else None."""
    name: Json = None
    value_key: str | None = None
    for k, v in d.items():
        low = k.lower()
        if low in ("name", "key") and isinstance(v, str):
            name = v
        elif low == "value":
            value_key = k
    if isinstance(name, str) and value_key is not None:
        return name, value_key
    return None


def _secret_scalar(value: Json, redactor: Redactor) -> Json:
    if isinstance(value, bool) or value is None or value == "":
        return value
    if isinstance(value, str | int | float):
        return redactor.redact(value)
    return value


def redact_tree(value: Json, redactor: Redactor, keep: Collection[str] = ()) -> Json:
    """A copy of ``value`` with secret values replaced (see the module docstring).

    ``keep``: keys never treated as secret by name (e.g. Kubernetes ``secretName``, which names a
    Secret object rather than holding its content).
    """

    def walk(v: Json, secret: bool) -> Json:
        if isinstance(v, dict):
            pair = _name_of_pair(v)
            sensitive = v.get("sensitive") is True
            out: dict[str, Json] = {}
            for k, x in v.items():
                if pair is not None and k == pair[1] and secret_name(pair[0]):
                    out[k] = walk(x, True)
                else:
                    hidden = secret or secret_name(k) or (sensitive and k in ("default", "value"))
                    out[k] = walk(x, k not in keep and hidden)
            return out
        if isinstance(v, list):
            return [walk(x, True) for x in v] if secret else _args(v)
        if secret:
            return _secret_scalar(v, redactor)
        if isinstance(v, str):
            inner = json_in_text(v) if v[:1] in ("{", "[", "%") else None
            if inner is not None:
                try:
                    cleaned = walk(inner, False)
                    return v if cleaned == inner else orjson.dumps(cleaned).decode()
                except (RecursionError, TypeError):  # nested past what can be walked or written: hide it whole
                    return redactor.redact(v)
            return redact_text(v, redactor)
        return v

    def _args(items: list[Json]) -> list[Json]:
        """A list not under a secret key: an item after a secret-looking flag (``--api-key X``) is hidden."""
        out: list[Json] = []
        flag_secret = False  # the previous item was a secret-looking flag without "=value"
        for x in items:
            if flag_secret and isinstance(x, str) and not x.startswith("-"):
                out.append(_secret_scalar(x, redactor))
                flag_secret = False
                continue
            m = _FLAG.fullmatch(x) if isinstance(x, str) else None
            flag_secret = m is not None and looks_secret(m["key"])
            out.append(walk(x, False))
        return out

    return walk(value, False)
