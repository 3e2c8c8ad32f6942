"""Dropping the paths of a rule trie from a value without walking (or copying) the rest of it."""

from __future__ import annotations

from parity.model import Json
from parity.normalize.noise import RuleNode

_DROP = object()
# node -> the keys it drops when that is all it does (no deeper rules, no "*"), else None
_FLAT: dict[int, tuple[RuleNode, frozenset[str] | None]] = {}


def flat_drops(node: RuleNode) -> frozenset[str] | None:
    """The keys ``node`` drops when that is all it does (no deeper rules, no ``*``), else None."""
    got = _FLAT.get(id(node))
    if got is None or got[0] is not node:
        flat = node.any_key is None and all(c.drop for c in node.keys.values())
        got = (node, frozenset(node.keys) if flat else None)
        _FLAT[id(node)] = got
    return got[1]


def strip(value: Json, node: RuleNode) -> Json:
    """``value`` without the paths whose node has ``drop`` set; unchanged parts are shared, not copied."""
    t = type(value)
    if t is dict:
        drops = flat_drops(node)
        if drops is not None:  # the usual case: a few top-level keys dropped
            if drops.isdisjoint(value):
                return value
            out = value.copy()
            for k in drops:
                out.pop(k, None)
            return out
        changed: dict[str, object] = {}
        if node.any_key is None:
            for k, child in node.keys.items():
                if k in value:
                    _visit(k, value[k], child, changed)
        else:
            for k, x in value.items():
                sub = node.child(k)
                if sub is not None:
                    _visit(k, x, sub, changed)
        if not changed:
            return value
        out = value.copy()
        for k, nv in changed.items():
            if nv is _DROP:
                del out[k]
            else:
                out[k] = nv
        return out
    if t is list and node.items is not None:
        new = [strip(x, node.items) for x in value]
        return value if all(a is b for a, b in zip(new, value, strict=True)) else new
    return value


def _visit(k: str, x: Json, child: RuleNode, changed: dict[str, object]) -> None:
    if child.drop:
        changed[k] = _DROP
        return
    nx = strip(x, child)
    if nx is not x:
        changed[k] = nx
