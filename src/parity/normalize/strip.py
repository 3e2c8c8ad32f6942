"""Dropping the paths of a rule trie from a value without walking (or copying) the rest of it."""

from __future__ import annotations

from parity.model import Json
from parity.normalize.noise import RuleNode

_DROP = object()


def strip(value: Json, node: RuleNode) -> Json:
    """``value`` without the paths whose node has ``drop`` set; unchanged parts are shared, not copied."""
    t = type(value)
    if t is dict:
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
