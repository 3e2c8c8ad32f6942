"""What the state reader and the plan reader share: JSON loading, addresses, redaction, Resource fields.

Both readers turn one Terraform resource instance into one :class:`parity.model.Resource` with the same
rules, so a state and a plan of the same code give resources that pair with each other:

- ``address``: the full Terraform address (``module.a["x"].aws_s3_bucket.logs["eu"]``).
- ``key``: the address; only where two files of one source hold the same address is it prefixed with the
  file's display path (``envs/a/terraform.tfstate#aws_s3_bucket.logs``), see :func:`assign_keys`.
- ``id``: ``attributes["id"]`` as a string when present and non-empty, else the address.
- ``name``: the first non-empty string of :data:`NAME_ATTRIBUTES`, then ``tags.Name``, else the name in code.
- ``tags``: ``attributes["tags"]`` when it is a mapping of strings to strings, else empty.
- ``attributes``: Terraform's values with every secret replaced by a ``<redacted:...>`` marker: the paths
  Terraform itself marks sensitive, and every value (at any depth) under a key that
  :func:`parity.redact.looks_secret` (:func:`parity.redact.redact_secret_keys_in_place`, the rule live
  sources apply too). JSON-string values (policy documents) are kept as strings; normalisation happens
  later, on both sides alike.

Per-instance problems raise :class:`ShapeError`; the readers turn it into an
:class:`parity.errors.InputError` naming the file and the address, so no KeyError/TypeError escapes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from parity.errors import InputError, type_word
from parity.model import Json, Location, Resource
from parity.normalize.canonical import NestingError
from parity.redact import Redactor, redact_paths
from parity.sources import files
from parity.sources.config.yamlio import json_document

# Attributes that hold a resource's human name, most specific first (AWS, Google and Azure providers).
NAME_ATTRIBUTES: tuple[str, ...] = (
    "name",
    "bucket",
    "function_name",
    "identifier",
    "cluster_identifier",
    "table_name",
    "repository_name",
    "cluster_name",
    "family",
    "role_name",
    "user_name",
    "group_name",
    "topic_name",
    "queue_name",
)


class ShapeError(Exception):
    """A resource or instance does not have the shape Terraform writes; the message says what is wrong."""


# An integer literal that may not fit 64 bits (orjson reads those as a float, losing digits: two different
# values could then compare equal). Also matches such digits inside strings: that only costs the slower parse.
_LONG_INT = re.compile(r"(?<![\w.\"])-?\d{19,}(?![\d.eE])")
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))  # ASCII digits to 0, all else a space
_LONG_RUN = b"0" * 19


def holds_long_ints(text: str, data: bytes) -> bool:
    """``text`` (whose UTF-8 is ``data``) may hold an integer literal past 64 bits (which orjson would read as
    a float): such a file is read by Python's parser instead."""
    # The exact pattern costs several times the parse itself (a look-behind tried at every character), so
    # it runs only where 19 digits stand in a row: found by a C-level translate and substring search.
    return _LONG_RUN in data.translate(_DIGITS_ONLY) and _LONG_INT.search(text) is not None


def load_json(path: Path, shown: str) -> Any:
    """Parse a JSON input file; any problem is an InputError naming the file (and line:column).

    An integer past 64 bits is kept as its decimal string (:func:`parity.model.json_int`), as the config
    sources do, instead of the float orjson would make of it."""
    return parse_json_text(files.read_text(path, shown), shown)


def parse_json_text(text: str, shown: str, data: bytes | None = None) -> Any:
    """:func:`load_json` of the text read from ``shown`` (``data``: its UTF-8, where the caller has it)."""
    if not holds_long_ints(text, text.encode() if data is None else data):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as e:
            line, col = files.line_col(text, e.pos)
            raise InputError(shown, f"is not valid JSON: {e.msg}", line, col) from None
    return json_document(text, shown)  # Python's parser, which reads any integer (the config sources' reader)


def format_index(index: Json) -> str:
    """The address suffix of an instance key: ``[0]`` for count, ``["eu"]`` for for_each, ``""`` for none."""
    if index is None:
        return ""
    if isinstance(index, bool):
        raise ShapeError(f"instance key {index!r} is neither a number nor a string")
    if isinstance(index, int):
        return f"[{index}]"
    if isinstance(index, float) and index.is_integer():
        return f"[{int(index)}]"
    if isinstance(index, str):
        return "[" + hcl_quote(index) + "]"
    raise ShapeError(f"instance key {index!r} is neither a number nor a string")


_HCL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def hcl_quote(text: str) -> str:
    """``text`` quoted as Terraform writes an instance key in an address (``addrs.StringKey.String``):
    ``"`` and ``\\`` escaped, ``${``/``%{`` doubled to ``$${``/``%%{``, characters Go does not count as
    printable (control, format, non-ASCII space) as ``\\uXXXX``/``\\UXXXXXXXX``; all else, unicode
    included, as it is. So a state's key equals the ``address`` a plan of the same object carries."""
    if text.isprintable() and '"' not in text and "\\" not in text and "{" not in text:
        return '"' + text + '"'  # the common case: nothing to escape (str.isprintable is Go's unicode.IsPrint)
    out = ['"']
    for i, ch in enumerate(text):
        esc = _HCL_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch in "$%":
            out.append(ch + ch if text.startswith("{", i + 1) else ch)
        elif not ch.isprintable():
            n = ord(ch)
            out.append(f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# Redaction ------------------------------------------------------------------------------------------

# orjson serialises at most 254 levels deep; nothing real is nested that deep.
TOO_DEEP_TO_HASH = "a sensitive value is nested too deeply to hash"


def redact_value(redactor: Redactor, value: Json) -> Json:
    """The marker for a secret value; null stays null (it reveals nothing and keeps "unset" visible)."""
    if value is None:
        return None
    try:
        return redactor.redact(value)
    except orjson.JSONEncodeError:
        raise ShapeError(TOO_DEEP_TO_HASH) from None


def redact_declared_secret_paths(type_: str, attrs: dict[str, Json], redactor: Redactor) -> dict[str, Json]:
    """Values a resource type declares secret by position (TypeInfo.secret_paths) or inside a value
    (TypeInfo.redact_values: a URL's password), hashed as live sources do."""
    from parity.registry import type_info

    info = type_info(type_)
    if info is None:
        return attrs
    out: dict[str, Json] = redact_paths(attrs, info.secret_paths, redactor) if info.secret_paths else attrs
    if info.redact_values is not None:
        out = info.redact_values(out, redactor)
    return out


def _index_step(value: Json) -> Json:
    # State files write an index step as {"value": 0, "type": "number"}; tolerate a bare value too.
    if isinstance(value, dict):
        return value.get("value")
    return value


def redact_sensitive_paths(attrs: dict[str, Json], paths: Json, redactor: Redactor) -> None:
    """Redact the values at the ``sensitive_attributes`` paths of a v4 state instance (Terraform 0.15+).

    Each path is a list of steps, ``{"type": "get_attr", "value": "password"}`` or
    ``{"type": "index", "value": {"value": 0, "type": "number"}}``. A path that cannot be followed
    (an unknown step shape, or values that do not match it) redacts its whole top-level attribute:
    over-redacting is safe, leaking is not.
    """
    if paths is None:
        return
    if not isinstance(paths, list):
        raise ShapeError(f"sensitive_attributes is {type_word(paths)}, expected a list of paths")
    for path in paths:
        if not isinstance(path, list) or not path:
            continue
        first = path[0]
        if not isinstance(first, dict) or first.get("type") != "get_attr" or not isinstance(first.get("value"), str):
            continue  # no top-level attribute to name
        top = first["value"]
        if top not in attrs:
            continue
        container: Any = attrs
        key: Any = top
        followed = True
        for step in path[1:]:
            cur = container[key]
            kind = step.get("type") if isinstance(step, dict) else None
            raw = step.get("value") if isinstance(step, dict) else None
            if kind == "get_attr" and isinstance(cur, dict) and isinstance(raw, str) and raw in cur:
                container, key = cur, raw
                continue
            if kind == "index":
                idx = _index_step(raw)
                if isinstance(cur, list) and isinstance(idx, int) and not isinstance(idx, bool) and 0 <= idx < len(cur):
                    container, key = cur, idx
                    continue
                if isinstance(cur, dict) and isinstance(idx, str) and idx in cur:
                    container, key = cur, idx
                    continue
            followed = False
            break
        if followed:
            container[key] = redact_value(redactor, container[key])
        else:
            attrs[top] = redact_value(redactor, attrs[top])


def redact_sensitive_mirror(values: dict[str, Json], mirror: Json, redactor: Redactor) -> None:
    """Redact where a plan's ``sensitive_values`` mirror (same shape, ``true`` = sensitive) says so.

    Where the mirror and the values disagree in shape, the whole value under a non-empty mirror is
    redacted rather than guessed at.
    """
    if mirror is True or (mirror and not isinstance(mirror, dict)):  # all, or a mirror of the wrong shape
        for k in values:
            values[k] = redact_value(redactor, values[k])
        return
    stack: list[tuple[Any, Any]] = [(values, mirror)]
    while stack:
        node, mir = stack.pop()
        if isinstance(mir, dict) and isinstance(node, dict):
            pairs: Iterable[tuple[Any, Any]] = ((k, m) for k, m in mir.items() if k in node)
        elif isinstance(mir, list) and isinstance(node, list):
            pairs = ((i, m) for i, m in enumerate(mir[: len(node)]))
        else:
            continue  # the caller handled a shape mismatch one level up; nothing more to look at
        for k, m in pairs:
            if m is True:
                node[k] = redact_value(redactor, node[k])
            elif isinstance(m, dict | list) and m:
                child = node[k]
                if isinstance(child, type(m)):
                    stack.append((child, m))
                elif child is not None:
                    node[k] = redact_value(redactor, child)


# Resource fields --------------------------------------------------------------------------------------


def string_tags(value: Json) -> dict[str, str]:
    """``value`` when it is a mapping of strings to strings, else empty."""
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    return {}


def flat_tags(flat: Mapping[str, Json]) -> dict[str, str]:
    """Tags of a 0.11-style flat attribute map (``tags.%`` is the count, ``tags.Name`` a tag)."""
    return {k[5:]: v for k, v in flat.items() if k.startswith("tags.") and k != "tags.%" and isinstance(v, str)}


def pick_name(attrs: Mapping[str, Json], tags: Mapping[str, str], code_name: str) -> str:
    for a in NAME_ATTRIBUTES:
        v = attrs.get(a)
        if isinstance(v, str) and v:
            return v
    tag = tags.get("Name")
    return tag if tag else code_name


def pick_id(attrs: Mapping[str, Json], address: str) -> str:
    v = attrs.get("id")
    if isinstance(v, str):
        return v or address
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    return address


@dataclass(slots=True)
class Instance:
    """One managed resource instance read from a file, before its key is known."""

    address: str
    type: str
    code_name: str
    attributes: dict[str, Json]
    tags: dict[str, str]
    shown: str  # display path of the file it came from
    # (id, name) picked from the attributes as read, where they were canonicalised as soon as read (see
    # canonical_instance); None: picked from ``attributes`` when the resource is made
    picked: tuple[str, str] | None = None


def make_instance(
    address: str, type_: str, code_name: str, attrs: dict[str, Json], shown: str, *, flat: bool = False
) -> Instance:
    """An Instance from already-redacted attributes."""
    tags = flat_tags(attrs) if flat else string_tags(attrs.get("tags"))
    return Instance(address, type_, code_name, attrs, tags, shown)


def assign_keys(per_file: Iterable[tuple[str, Iterable[str]]]) -> dict[tuple[str, str], str]:
    """``(shown, address) -> key``: the address, prefixed by ``shown#`` only where another file has it too.

    Two root modules of one environment may legitimately both hold ``aws_s3_bucket.logs``; prefixing
    only the colliding ones keeps every other key identical across environments.
    """
    seen: list[tuple[str, set[str]]] = [(shown, set(addrs)) for shown, addrs in per_file]
    counts: Counter[str] = Counter()
    for _, addrs in seen:
        counts.update(addrs)
    return {(shown, a): (f"{shown}#{a}" if counts[a] > 1 else a) for shown, addrs in seen for a in addrs}


# Terraform types that are another name of one resource: the resource carries the canonical name, so a
# state written with either compares with the live object (the address keeps the name the code used).
TYPE_ALIASES: dict[str, str] = {
    "aws_alb": "aws_lb",
    "aws_alb_listener": "aws_lb_listener",
    "aws_alb_listener_rule": "aws_lb_listener_rule",
    "aws_alb_listener_certificate": "aws_lb_listener_certificate",
    "aws_alb_target_group": "aws_lb_target_group",
    "aws_alb_target_group_attachment": "aws_lb_target_group_attachment",
}


# A source's canonicalisation of attributes (CollectContext.canonical_attributes): (type, attributes) -> canonical
Canonical = Callable[[str, dict[str, Json]], dict[str, Json]]


def canonical_instance(inst: Instance, canonical: Canonical) -> Instance:
    """``inst`` with canonical attributes (those of the resource type it is made as), its id and name picked
    from the attributes as read first: the resource is then the one ``canonical_resource`` makes of
    ``to_resource``'s, made while the attributes are still in the processor's cache."""
    t = TYPE_ALIASES.get(inst.type, inst.type)
    picked = (pick_id(inst.attributes, inst.address), pick_name(inst.attributes, inst.tags, inst.code_name))
    try:
        attrs = canonical(t, inst.attributes)
    except NestingError as e:
        raise InputError(inst.shown, f"{inst.address}: {e}") from None
    return Instance(inst.address, inst.type, inst.code_name, attrs, inst.tags, inst.shown, picked)


def to_resource(inst: Instance, key: str, kind: str) -> Resource:
    id_, name = inst.picked or (
        pick_id(inst.attributes, inst.address),
        pick_name(inst.attributes, inst.tags, inst.code_name),
    )
    return Resource(
        type=TYPE_ALIASES.get(inst.type, inst.type),
        id=id_,
        key=key,
        attributes=inst.attributes,
        tags=inst.tags,
        origin=f"{kind}:{inst.shown}",
        owner="terraform",
        name=name,
        address=inst.address,
        location=Location(inst.shown),
    )
