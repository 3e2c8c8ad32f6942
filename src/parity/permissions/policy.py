"""Parsing IAM policy documents into :class:`~parity.permissions.model.Statement` objects.

Actions are expanded with the catalogue (``s3:Get*`` -> every ``s3:Get...`` action it knows); a pattern
matching nothing there is kept literally (lower-case). ``NotAction`` is the catalogue minus what it
matches. Resource ARNs and condition values go through the environment's placeholders
(``{account}``, ``{region}``, ``{env}``) so a staging and a production statement compare.

A document that cannot be read (absent, not JSON, not an object, a ``Statement`` of the wrong type) and a
statement IAM would reject (no valid ``Effect``, neither ``Action`` nor ``NotAction``, values that are
not strings) grant nothing here, and :func:`read_statements` says why: the caller turns that into a note
on the principal (:mod:`parity.permissions.principals`), never a silent "no permissions".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import orjson

from parity.model import Json
from parity.permissions.catalogue import Catalogue
from parity.permissions.glob import has_wildcard, simplify
from parity.permissions.model import ANY, Scope, Source, Statement

Sub = Callable[[str], str]


def _identity(s: str) -> str:
    return s


def read_document(value: Json) -> tuple[dict[str, Any], str]:
    """(the policy document, "") from a stored attribute (a parsed mapping, or a JSON string, URL-encoded
    or not), or ``({}, why it cannot be read)``: absent, not JSON, or not a JSON object."""
    if isinstance(value, Mapping):
        return dict(value), ""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}, "no policy document"
    if not isinstance(value, str):
        return {}, f"not a JSON object (a {_kind(value)})"
    text = unquote(value) if value[:3] in ("%7B", "%7b") else value
    try:
        doc = json.loads(text)
    except ValueError as e:
        return {}, f"not valid JSON ({e})"
    return (doc, "") if isinstance(doc, dict) else ({}, f"not a JSON object (a {_kind(doc)})")


def document(value: Json) -> dict[str, Any]:
    """A policy document from a stored attribute: a parsed mapping, or a JSON string; ``{}`` when neither."""
    return read_document(value)[0]


def _kind(value: object) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _string_list(value: object) -> list[str] | None:
    """``value`` as a non-empty list of strings (IAM's string-or-list), or None when it is not one."""
    if isinstance(value, str):
        return [value] if value else None
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    return None


SHOWN_CHARS = 60


def _shown(st: object) -> str:
    """A statement as a problem names it: its Sid, else its start as compact JSON (positions are no help:
    canonical form sorts the statements)."""
    sid = st.get("Sid") if isinstance(st, Mapping) else None
    if isinstance(sid, str) and sid:
        return json.dumps(sid)
    text = json.dumps(st, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def statement_problem(st: object) -> str:
    """Why a statement cannot be read ("" when it can): what IAM would reject as malformed."""
    if not isinstance(st, Mapping):
        return f"not an object (a {_kind(st)})"
    if st.get("Effect") not in ("Allow", "Deny"):
        return f"Effect is {json.dumps(st.get('Effect'), default=str)}, not Allow or Deny"
    for a, b in (("Action", "NotAction"), ("Resource", "NotResource")):
        if a in st and b in st:
            return f"has both {a} and {b}"
    if "Action" not in st and "NotAction" not in st:
        return "has neither Action nor NotAction"
    for k in ("Action", "NotAction", "Resource", "NotResource"):
        if k in st and _string_list(st[k]) is None:
            return f"{k} is not a string or a non-empty list of strings"
    if "Condition" in st and not isinstance(st["Condition"], Mapping):
        return "Condition is not an object"
    return ""


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


def read_statements(
    doc: Json, policy: str, catalogue: Catalogue, sub: Sub = _identity, via: str = ""
) -> tuple[tuple[Statement, ...], tuple[str, ...]]:
    """(every readable statement of ``doc``, parsed; why the rest could not be read). A document that is
    absent, not JSON or not an object gives no statements and one problem; a statement IAM would reject
    (see :func:`statement_problem`) is skipped and gives one problem (``statement "Sid": ...``, or
    the statement's start when it has no Sid)."""
    body, why = read_document(doc)
    if why:
        return (), (why,)
    raw = body.get("Statement", [])
    if not isinstance(raw, Mapping | list):
        return (), (f"Statement is not an object or a list (a {_kind(raw)})",)
    items = [raw] if isinstance(raw, Mapping) else raw
    out: list[Statement] = []
    problems: list[str] = []
    for i, st in enumerate(items):
        problem = statement_problem(st)
        if problem:
            problems.append(f"statement {_shown(st)}: {problem}")
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
    return tuple(out), tuple(problems)


def statements(
    doc: Json, policy: str, catalogue: Catalogue, sub: Sub = _identity, via: str = ""
) -> tuple[Statement, ...]:
    """Every statement of ``doc`` (a mapping or JSON string), parsed; unreadable ones are skipped (see
    :func:`read_statements` for why they were)."""
    return read_statements(doc, policy, catalogue, sub, via)[0]
