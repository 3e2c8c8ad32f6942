"""Effective permissions: allows, then ceilings (permission boundary, each SCP level), then every deny.

IAM's rule (for identity policies within one account): an action is allowed when an identity policy
allows it, the boundary (if any) allows it, every SCP level allows it, and no explicit deny (in any of
them) denies it. Grants are intersected block-wise (see :mod:`parity.permissions.model`):

- a deny without conditions whose scope contains the grant's removes its actions from the grant;
- any other deny splits the affected actions off into a grant carrying the deny as a condition;
- a ceiling statement keeps the actions it allows: with the grant's scope when its scope contains it,
  with its own narrower scope when the grant's contains it, else with the ceiling as a condition.

So the result is never wider than what IAM allows (conditions are structure, not evaluated).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import orjson

from parity.permissions.catalogue import default_catalogue
from parity.permissions.glob import contains
from parity.permissions.model import Grant, PermissionSet, Principal, Scope, Statement


def _hit(g: Grant, s: Statement) -> frozenset[str]:
    """The actions of ``g`` that statement ``s`` names (``*``, the catalogue set, or its globs)."""
    if s.everything:
        return g.actions
    hit = g.actions & s.actions
    if s.patterns:  # the statement's globs reach only actions the catalogue does not know
        known = default_catalogue().all
        hit |= {a for a in g.actions - hit if a not in known and any(contains(p, a) for p in s.patterns)}
    return frozenset(hit)


def _qualifier(kind: str, scope: Scope, conditions: Sequence[str]) -> str:
    return orjson.dumps(
        {kind: {"Resource": str(scope), "Condition": [orjson.loads(c) for c in conditions]}},
        option=orjson.OPT_SORT_KEYS,
    ).decode()


def _nonempty(g: Grant) -> bool:
    return bool(g.actions) or g.everything


def apply_deny(grants: Iterable[Grant], deny: Statement) -> list[Grant]:
    out: list[Grant] = []
    for g in grants:
        parts = [g]
        for scope in deny.scopes:
            nxt: list[Grant] = []
            for p in parts:
                hit = _hit(p, deny)
                gone_all = p.everything and deny.everything
                if not hit and not gone_all:
                    nxt.append(p)
                    continue
                # What is left of ``*`` after a deny of some actions is no longer "every action": the
                # catalogue actions left, and no unknown ones (they may be denied too: never wider).
                rest = dataclasses.replace(
                    p, actions=p.actions - hit, everything=False,
                    patterns=() if deny.everything or p.everything else p.patterns,
                )  # fmt: skip
                if deny.conditions or not scope.contains(p.scope):
                    q = _qualifier("Deny", scope, deny.conditions)
                    nxt.append(dataclasses.replace(p, actions=hit, conditions=p.conditions | {q}))
                nxt.append(rest)
            parts = [p for p in nxt if _nonempty(p)]
        out += parts
    return out


def apply_ceiling(grants: Iterable[Grant], ceiling: Sequence[Statement]) -> list[Grant]:
    """``grants`` limited to what the Allow statements of ``ceiling`` allow, then its denies applied."""
    allows = [s for s in ceiling if s.effect == "Allow"]
    out: list[Grant] = []
    for g in grants:
        remaining = g
        for c in allows:
            for scope in c.scopes:
                hit = _hit(remaining, c)
                every = remaining.everything and c.everything
                if not hit and not every:
                    continue
                part = dataclasses.replace(remaining, actions=hit, everything=every,
                                           patterns=remaining.patterns if c.everything else ())  # fmt: skip
                if not c.conditions and scope.contains(g.scope):
                    out.append(part)
                    remaining = dataclasses.replace(remaining, actions=remaining.actions - hit,
                                                    everything=remaining.everything and not c.everything)  # fmt: skip
                elif not c.conditions and g.scope.contains(scope):
                    out.append(dataclasses.replace(part, scope=scope))
                else:
                    q = _qualifier("Within", scope, c.conditions)
                    out.append(dataclasses.replace(part, conditions=part.conditions | {q}))
    for d in ceiling:
        if d.effect == "Deny":
            out = apply_deny(out, d)
    return [g for g in out if _nonempty(g)]


def allows(statements: Iterable[Statement]) -> list[Grant]:
    return [
        Grant(s.actions, scope, frozenset(s.conditions), s.source, s.patterns, s.everything)
        for s in statements
        if s.effect == "Allow"
        for scope in s.scopes
    ]


def effective(principal: Principal) -> PermissionSet:
    """``principal``'s effective grants (see the module docstring)."""
    identity = [s for p in principal.policies for s in p.statements]
    grants = allows(identity)
    if principal.boundary is not None:
        grants = apply_ceiling(grants, principal.boundary)
    for level in principal.scps:
        grants = apply_ceiling(grants, level)
    for s in identity:
        if s.effect == "Deny":
            grants = apply_deny(grants, s)
    return PermissionSet(principal, tuple(grants))
