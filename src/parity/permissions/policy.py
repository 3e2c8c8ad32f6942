"""Parsing IAM policy documents into :class:`~parity.permissions.model.Statement` objects.

Actions are expanded with the catalogue (``s3:Get*`` -> every ``s3:Get...`` action it knows); a pattern
matching nothing there is kept literally (lower-case). ``NotAction`` is the catalogue minus what it
matches. Resource ARNs and condition values go through the environment's placeholders
(``{account}``, ``{region}``, ``{env}``) so a staging and a production statement compare.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from parity.model import Json
from parity.permissions.catalogue import Catalogue
from parity.permissions.glob import has_wildcard, simplify
from parity.permissions.model import ANY, Scope, Source, Statement

Sub = Callable[[str], str]


def _identity(s: str) -> str:
    return s


def document(value: Json) -> dict[str, Any]:
    """A policy document from a stored attribute: a parsed mapping, or a JSON string; ``{}`` when neither."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        try:
            doc = json.loads(value)
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}
    return {}


def _strings(value: Json) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def expand(catalogue: Catalogue, patterns: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...], bool]:
    """(actions, the literal globs, whether ``*`` was among them). Unknown patterns are kept literally."""
    out: set[str] = set()
    globs: list[str] = []
    everything = False
    for raw in patterns:
        p = simplify(raw.strip().lower())
        if p == "*":
            everything = True
        matched = catalogue.match(p)
        if matched:
            out |= matched
        else:
            out.add(p)
        if has_wildcard(p):
            globs.append(p)
    return frozenset(out), tuple(sorted(set(globs))), everything


def _conditions(value: Json, sub: Sub) -> tuple[str, ...]:
    if not isinstance(value, Mapping) or not value:
        return ()
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return (sub(text),)


def _scopes(stmt: Mapping[str, Any], sub: Sub) -> tuple[Scope, ...]:
    if "NotResource" in stmt:
        return (Scope(tuple(sorted({simplify(sub(r)) for r in _strings(stmt["NotResource"])})), negated=True),)
    resources = _strings(stmt.get("Resource", "*"))
    if not resources:
        return (ANY,)
    return tuple(Scope.of(simplify(sub(r))) for r in sorted(set(resources)))


def statements(
    doc: Json, policy: str, catalogue: Catalogue, sub: Sub = _identity, via: str = ""
) -> tuple[Statement, ...]:
    """Every statement of ``doc`` (a mapping or JSON string), parsed; malformed statements are skipped."""
    body = document(doc).get("Statement", [])
    items = [body] if isinstance(body, Mapping) else body if isinstance(body, list) else []
    out: list[Statement] = []
    for i, st in enumerate(items):
        if not isinstance(st, Mapping) or st.get("Effect") not in ("Allow", "Deny"):
            continue
        sid = st.get("Sid")
        source = Source(policy, str(sid) if isinstance(sid, str) and sid else f"#{i}", via)
        if "NotAction" in st:
            excluded, _, everything = expand(catalogue, _strings(st["NotAction"]))
            actions = frozenset() if everything else catalogue.all - excluded
            globs: tuple[str, ...] = ()
            everything = False
        else:
            actions, globs, everything = expand(catalogue, _strings(st.get("Action", [])))
        if not actions and not everything:
            continue
        out.append(
            Statement(
                effect=st["Effect"], actions=actions, patterns=globs, everything=everything,
                scopes=_scopes(st, sub), conditions=_conditions(st.get("Condition"), sub), source=source,
            )
        )  # fmt: skip
    return tuple(out)
