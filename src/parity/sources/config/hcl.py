"""HCL (``.tf``, ``.tfvars``) via python-hcl2, normalised to plain nested data.

python-hcl2 8.x returns blocks as lists of one-key dicts per label, marks block bodies with
``__is_block__``, keeps string literals with their quotes and escapes (``'"web"'``) and wraps every
other expression in ``${...}``. This module turns that into what a reader expects:

- labelled blocks become nested dicts keyed by their labels, merged across blocks:
  ``resource.aws_instance.web.instance_type``; a repeated label path becomes a list of bodies;
- top-level unlabelled blocks (``locals``, ``terraform``) are merged into one dict;
- nested unlabelled blocks (``lifecycle``, ``ebs_block_device``) are lists of bodies, as in
  Terraform state, so ``ebs_block_device[1].device_name`` reads the same in both;
- string literals are unquoted and unescaped; other expressions lose the ``${...}`` wrapper
  (``var.size``, ``lower("X")``); interpolations inside strings stay (``"web-${var.env}"``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import hcl2
from hcl2.rules.base import AttributeRule, BlockRule, BodyRule
from lark.exceptions import UnexpectedInput

from parity.errors import InputError
from parity.model import Json, json_int

_BLOCK = "__is_block__"
_OPTIONS = hcl2.SerializationOptions(
    with_comments=False,
    with_meta=False,
    explicit_blocks=True,
    preserve_heredocs=False,
    strip_string_quotes=False,
    preserve_scientific_notation=False,
)
_ESC = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(s: str) -> str:
    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) > 1:
            code = int(e[1:], 16)
            if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code)
            return "\\" + e  # not a Unicode character (a lone surrogate, past U+10FFFF): kept as written
        return _SIMPLE.get(e, "\\" + e)

    return _ESC.sub(one, s)


def scalar(s: str) -> str:
    """A python-hcl2 string as the value it stands for (see the module docstring)."""
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return _unescape(s[1:-1])
    if s.startswith("${") and s.endswith("}"):
        return s[2:-1]
    return s


def _value(v: Any) -> Json:
    if isinstance(v, str):
        return scalar(v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {scalar(k): _value(x) for k, x in v.items() if k != _BLOCK}
    if type(v) is int:
        return json_int(v)
    if type(v) is float and not math.isfinite(v):  # 1e400 reads as inf; JSON has no such number
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v  # float, bool, None


def _is_block_item(x: dict[str, Any]) -> bool:
    """True for one element of a block list: a body (marked) or a label wrapper around one."""
    while True:
        if x.get(_BLOCK) is True:
            return True
        if len(x) != 1:
            return False
        inner = next(iter(x.values()))
        if not isinstance(inner, dict):
            return False
        x = inner


def _labels(x: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """A block list element as (labels, body)."""
    labels: list[str] = []
    while x.get(_BLOCK) is not True:
        (label, inner), *_ = x.items()
        labels.append(scalar(label))
        x = inner
    return labels, x


def _body(body: dict[str, Any], top: bool = False) -> dict[str, Json]:
    out: dict[str, Json] = {}
    for k, v in body.items():
        if k == _BLOCK:
            continue
        key = scalar(k)
        if isinstance(v, list) and v and all(isinstance(x, dict) and _is_block_item(x) for x in v):
            _merge_blocks(out, key, v, top)
        else:
            out[key] = _value(v)
    return out


def _merge_blocks(out: dict[str, Json], key: str, items: list[dict[str, Any]], top: bool) -> None:
    for item in items:
        labels, raw = _labels(item)
        body = _body(raw)
        if not labels:
            if top:  # locals, terraform: one namespace however many blocks declare it
                merged = out.setdefault(key, {})
                if isinstance(merged, dict):
                    merged.update(body)
                continue
            existing = out.setdefault(key, [])
            if isinstance(existing, list):
                existing.append(body)
            continue
        node = out.setdefault(key, {})
        for label in labels[:-1]:
            if not isinstance(node, dict):
                break
            node = node.setdefault(label, {})
        if not isinstance(node, dict):
            continue
        last = labels[-1]
        if last not in node:
            node[last] = body
        elif isinstance(node[last], list):
            node[last].append(body)
        else:
            node[last] = [node[last], body]  # e.g. two `provisioner "local-exec"` blocks


def _line(rule: Any) -> int | None:
    line = getattr(getattr(rule, "_meta", None), "line", None)
    return line if isinstance(line, int) and line > 0 else None


def _refuse_redefined(tree: Any, shown: str) -> None:
    """Terraform refuses an attribute set twice in one body ("Attribute redefined"); python-hcl2 keeps the
    last, so a file Terraform would not run would be read as if its second value were the only one."""
    bodies = [tree.body]
    while bodies:
        body = bodies.pop()
        seen: dict[str, int | None] = {}
        for child in body.children:
            if isinstance(child, AttributeRule):
                name = str(child.identifier.serialize(_OPTIONS))
                if name in seen:
                    first = seen[name]
                    where = f" (first set on line {first})" if first else ""
                    raise InputError(shown, f"attribute {name!r} is set twice in one block{where}", _line(child))
                seen[name] = _line(child)
            elif isinstance(child, BlockRule):
                bodies += [c for c in child.children if isinstance(c, BodyRule)]


def parse_hcl(text: str, shown: str) -> dict[str, Json]:
    """A ``.tf``/``.tfvars`` file as nested data, or InputError with line and column."""
    if "\r\n" in text:  # a file saved with CRLF reads as the same file with LF (a heredoc spans lines)
        text = text.replace("\r\n", "\n")
    try:
        tree = hcl2.parses(text)
        _refuse_redefined(tree, shown)
        raw = hcl2.serialize(tree, serialization_options=_OPTIONS)
    except UnexpectedInput as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = re.sub(r" at line \d+, column \d+\.?$", "", msg)
        raise InputError(shown, f"invalid HCL: {msg}", e.line if e.line > 0 else None, e.column or None) from None
    except RecursionError:
        raise InputError(shown, "invalid HCL: nested too deeply") from None
    except InputError:
        raise
    except Exception as e:  # python-hcl2 raises plain errors for some invalid input (no position)
        raise InputError(shown, f"invalid HCL: {type(e).__name__}: {e}") from None
    return _body(raw, top=True)
