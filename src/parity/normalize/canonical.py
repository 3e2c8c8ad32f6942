"""Canonical form of resources: one chain, applied to every snapshot before it is stored and compared.

What :func:`canonicalize` does to every resource's attributes (tags are kept as given: a key-only tag
is meaningful), bottom-up in a single walk:

1. JSON-string documents are parsed into structure. Rule: a string whose first character is ``{`` or
   ``[`` and that parses as a JSON object or array (IAM policy documents, container definitions,
   embedded JSON settings), and a URL-encoded JSON object (``%7B...``, as IAM's API returns policy
   documents). Anything else stays a string.
2. The noise KB (:mod:`parity.normalize.noise`) is applied: volatile and write-only paths are dropped,
   server defaults are folded only when the value equals the listed default (equality-gated, same
   type too: ``30`` folds, ``"30"`` and ``31`` do not), order-insensitive lists are sorted.
3. Empty is folded into absent: mapping entries whose value is ``None``, ``""``, ``[]`` or ``{}``
   (after steps 1-2) are removed. List elements are never removed (that would change positions).
4. IAM policy documents (any mapping with a ``Statement``) are put in canonical shape: a single
   statement becomes a list; ``Action``/``NotAction``/``Resource``/``NotResource``, principal values and
   condition values become sorted, de-duplicated lists (so ``"s3:GetObject"`` equals
   ``["s3:GetObject"]``); ``"Principal": "*"`` becomes ``{"AWS": ["*"]}`` (IAM treats the two alike);
   statements are sorted (their order has no meaning in IAM).

The result is deterministic and idempotent (``canonical(canonical(x)) == canonical(x)``), which the
property tests check. A resource whose serialised attributes hold none of the byte patterns that any
step reacts to, and whose type has no KB rules, is returned untouched without a Python-level walk.

The walk runs in C where the extension :mod:`parity.normalize._cwalk` was built (``_cwalk.c``, a port of
``_walk``/``_plain``/``_policy`` below, about 2.5x faster; docs/benchmarks.md). The Python here is the
reference: ``tests/test_cwalk.py`` holds the two to the same output, key order and errors, and
``PARITY_PURE_PYTHON=1`` uses it alone. The C walk shares unchanged subtrees with its input instead of
copying them, as :func:`parity.normalize.strip.strip` does: canonical values are never modified in place.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from parity.errors import InputError
from parity.gcpause import paused_gc
from parity.model import MAX_DEPTH, Json, Resource, Snapshot, json_in_text
from parity.normalize.noise import NoiseKB, RuleNode, default_kb

if TYPE_CHECKING:  # the memo module imports this one
    from parity.normalize.memo import CanonicalMemo

_SORT_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
# Byte patterns in orjson output that mean some step may change the value (a superset test).
_TRIGGERS = (b'"{', b'"[', b"null", b'""', b"[]", b"{}", b'"Statement"', b'"%7B', b'"%7b')
_IAM_SET_KEYS = ("Action", "NotAction", "Resource", "NotResource")
_IAM_PRINCIPALS = ("Principal", "NotPrincipal")
_JSON_START = frozenset("{[%")


class NestingError(ValueError):
    """A value nested deeper than :data:`parity.model.MAX_DEPTH`, counted in the walk, so that an embedded
    JSON document, which canonicalisation parses into structure, counts where it sits."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested more than {limit} levels deep (parity compares at most {limit})")


def sort_key(value: Json) -> bytes:
    """The order used for order-insensitive lists: canonical JSON bytes (works across mixed types)."""
    return orjson.dumps(value, option=_SORT_OPTS)


def _is_empty(x: Json) -> bool:
    return x is None or (type(x) in (str, list, dict) and not x)


def _plain(v: Json, d: int = 0) -> Json:
    """The walk where no KB rule applies (most of the tree): scalars are handled inline, not by a call.
    ``d``: the nesting depth of ``v`` (see :class:`NestingError`)."""
    t = type(v)
    if t is dict:
        if d > MAX_DEPTH:
            raise NestingError(MAX_DEPTH)
        out: dict[str, Json] = {}
        for k, x in v.items():
            tx = type(x)
            if tx is str:
                if not x:
                    continue
                if x[0] in _JSON_START:
                    x = _plain_str(x, d + 1)
                    if _is_empty(x):
                        continue
            elif tx is dict or tx is list:
                if not x:
                    continue
                x = _plain(x, d + 1)
                if not x:
                    continue
            elif x is None:
                continue
            out[k] = x
        if "Statement" in out:
            return _policy(out)
        return out
    if t is list:
        if d > MAX_DEPTH:
            raise NestingError(MAX_DEPTH)
        return [
            _plain(x, d + 1)
            if (type(x) is dict or type(x) is list)
            else (_plain_str(x, d + 1) if type(x) is str and x else x)
            for x in v
        ]
    if t is str and v:
        return _plain_str(v, d)
    return v


def _plain_str(v: str, d: int = 0) -> Json:
    if v[0] in _JSON_START:
        parsed = json_in_text(v)
        if parsed is not None:
            return _plain(parsed, d)
    return v


def _walk(v: Json, node: RuleNode | None, d: int = 0) -> Json:
    if node is None:
        return _plain(v, d)
    t = type(v)
    if t is dict:
        if d > MAX_DEPTH:
            raise NestingError(MAX_DEPTH)
        out: dict[str, Json] = {}
        rule = node.keys.get if node.any_key is None else node.child
        for k, x in v.items():
            child = rule(k)
            if child is None:  # as in _plain: only a value that was rewritten can have become empty
                tx = type(x)
                if tx is str:
                    if not x:
                        continue
                    if x[0] in _JSON_START:
                        x = _plain_str(x, d + 1)
                        if _is_empty(x):
                            continue
                elif tx is dict or tx is list:
                    if not x:
                        continue
                    x = _plain(x, d + 1)
                    if not x:
                        continue
                elif x is None:
                    continue
                out[k] = x
                continue
            if child.drop:
                continue
            tx = type(x)
            if tx is dict or tx is list:
                x = _walk(x, child, d + 1)
            elif tx is str and x:
                x = _plain_str(x, d + 1)
            if child.default is not None:
                dflt = child.default[0]
                if type(x) is type(dflt) and x == dflt:
                    continue
            if _is_empty(x):
                continue
            out[k] = x
        if "Statement" in out:
            return _policy(out)
        return out
    if t is list:
        items = node.items
        if items is None:
            lst = _plain(v, d)
        else:  # scalars as _walk would handle them, without a call each
            if d > MAX_DEPTH:
                raise NestingError(MAX_DEPTH)
            lst = [
                _walk(x, items, d + 1)
                if (type(x) is dict or type(x) is list)
                else (_plain_str(x, d + 1) if type(x) is str and x else x)
                for x in v
            ]
        if node.unordered:
            lst.sort(key=sort_key)
        return lst
    if t is str and v:
        return _plain_str(v, d)
    return v


def _as_set(v: Json) -> list[Json]:
    items = v if isinstance(v, list) else [v]
    seen: dict[bytes, Json] = {}
    for x in items:
        seen.setdefault(sort_key(x), x)
    return [seen[k] for k in sorted(seen)]


def _statement(s: dict[str, Json]) -> dict[str, Json]:
    out = dict(s)
    for k in _IAM_SET_KEYS:
        if k in out:
            out[k] = _as_set(out[k])
    for k in _IAM_PRINCIPALS:
        p = out.get(k)
        if isinstance(p, dict):
            out[k] = {pk: _as_set(pv) for pk, pv in p.items()}
        elif p == "*" and k == "Principal":  # IAM: the wildcard principal, spelt as its {"AWS": "*"} form
            out[k] = {"AWS": ["*"]}
    cond = out.get("Condition")
    if isinstance(cond, dict):
        out["Condition"] = {
            op: ({ck: _as_set(cv) for ck, cv in body.items()} if isinstance(body, dict) else body)
            for op, body in cond.items()
        }
    return out


def _policy(doc: dict[str, Json]) -> dict[str, Json]:
    st = doc["Statement"]
    if isinstance(st, dict):
        st = [st]
    if not isinstance(st, list):
        return doc
    stmts = [_statement(s) if isinstance(s, dict) else s for s in st]
    stmts.sort(key=sort_key)
    return {**doc, "Statement": stmts}


Walker = Callable[[Json, "RuleNode | None"], Json]


@functools.cache
def walker() -> Walker:
    """The canonical walk: the C one where it was built and ``PARITY_PURE_PYTHON`` is not set, else ``_walk``."""
    from parity.normalize.native import compiled

    c = compiled()  # built by hatch_build.py
    if c is None:
        return _walk
    c.configure(NestingError, json_in_text, orjson.dumps, _SORT_OPTS, MAX_DEPTH)
    return c.walk  # type: ignore[no-any-return]


def walk_status() -> str:
    """Which walk :func:`walker` uses and why, in words (``parity version --verbose``)."""
    from parity.normalize.native import pure_python

    if pure_python():
        return "Python (PARITY_PURE_PYTHON is set)"
    try:
        from parity.normalize import _cwalk  # noqa: F401
    except ImportError as e:
        return f"Python (the compiled walk was not built: {e}; reinstall with a C compiler)"
    return "compiled (C)"


def canonical_value(value: Json, rules: RuleNode | None = None) -> Json:
    """The canonical form of one JSON-like value under ``rules`` (a type's KB trie, or None)."""
    return walker()(value, rules)


def canonical_attributes(type_: str, attributes: Mapping[str, Json], kb: NoiseKB | None = None) -> dict[str, Json]:
    """The canonical form of a resource's attributes (see the module docstring)."""
    rules = (kb or default_kb()).for_type(type_).canonical
    attrs: Any = attributes if type(attributes) is dict else dict(attributes)
    if rules is None:
        try:
            raw = orjson.dumps(attrs, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # too deep for orjson, or a value it cannot write: the walk tells which
            raw = b'"{'
        # untouched only when nothing may change and it cannot be too deep (each level opens a bracket)
        if not any(t in raw for t in _TRIGGERS) and raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH:
            return attrs  # type: ignore[no-any-return]
    out = walker()(attrs, rules)
    return out if isinstance(out, dict) else {}


def with_attributes(r: Resource, attributes: Mapping[str, Json]) -> Resource:
    """``dataclasses.replace(r, attributes=attributes)`` without its field introspection: a quarter of the cost
    (``bench/run breakdown``)."""
    return Resource(r.type, r.id, r.key, attributes, r.tags, r.origin, r.owner, r.name, r.address, r.location)


def canonical_resource(r: Resource, kb: NoiseKB | None = None) -> Resource:
    """``r`` with canonical attributes; InputError, naming where ``r`` came from, when they nest too deeply."""
    try:
        attrs = canonical_attributes(r.type, r.attributes, kb)
    except NestingError as e:
        where = r.location.file if r.location is not None else (r.origin or r.type)
        line = r.location.line if r.location is not None else None
        raise InputError(where, f"{r.key}: {e}", line) from None
    if attrs is r.attributes:
        return r
    return with_attributes(r, attrs)


def canonicalize(snapshot: Snapshot, kb: NoiseKB | None = None, memo: CanonicalMemo | None = None) -> Snapshot:
    """``snapshot`` with every resource in canonical form. Deterministic and idempotent.

    With a ``memo`` (kept by a long-running caller between scans), resources whose raw content the memo
    has seen are not walked again; the memo's KB is used.
    """
    if memo is not None and (kb is None or kb is memo.kb):
        return memo.canonicalize(snapshot)
    kb = kb or default_kb()
    with paused_gc():
        resources = tuple(canonical_resource(r, kb) for r in snapshot.resources)
    return dataclasses.replace(snapshot, resources=resources)
