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
  (:func:`parity.redact.redact_url_passwords`, the pattern the cloud sources use too).
"""

from __future__ import annotations

import re
from collections.abc import Collection

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


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def redact_text(text: str, redactor: Redactor) -> str:
    """``text`` with the value of every secret-keyed ``key = value`` line replaced by a marker.

    Recognised lines: ``password = x``, ``password: x``, ``PASSWORD=x``, ``export TOKEN="x"``,
    ``"api_key": "x",``, ``- DB_PASSWORD=x``; a YAML block scalar (``password: |``) has its
    following more-indented lines replaced as one value.
    """
    if "=" not in text and ":" not in text:
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
        if m is None or not val or not looks_secret(m["key"]):
            out.append(line)
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
                if pair is not None and k == pair[1] and looks_secret(pair[0]):
                    out[k] = walk(x, True)
                else:
                    hidden = secret or looks_secret(k) or (sensitive and k in ("default", "value"))
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
