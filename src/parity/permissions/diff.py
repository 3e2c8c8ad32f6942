"""The permission diff: what one principal may do that its mirror may not.

An action of a grant in A is *covered* by B when some grant of B allows it on a scope containing A's
scope (glob containment) with a subset of A's conditions (fewer conditions is wider). What is not
covered is :class:`Added`, traced to the statement of A that grants it; a subset of B's scope is never
reported. The pseudo-action ``*`` stands for "every action, including ones the catalogue does not know"
(an ``Action: "*"`` grant B lacks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from parity.permissions.catalogue import Catalogue, default_catalogue
from parity.permissions.model import Grant, PermissionSet, Scope, Source

EVERYTHING = "*"


@dataclass(frozen=True, slots=True)
class Added:
    action: str  # lower-case id, an unknown literal, or "*"
    scope: Scope
    conditions: frozenset[str]
    source: Source


def wider(a: PermissionSet, b: PermissionSet, catalogue: Catalogue | None = None) -> list[Added]:
    """What ``a`` allows that ``b`` does not (see the module docstring), in a deterministic order.
    B's own globs (``newsvc:*``) cover only actions the catalogue does not know."""
    known = (catalogue or default_catalogue()).all
    groups: dict[tuple[Scope, frozenset[str]], list[Grant]] = defaultdict(list)
    for g in a.grants:
        groups[(g.scope, g.conditions)].append(g)
    out: list[Added] = []
    for (scope, conds), grants in groups.items():
        cover = [h for h in b.grants if h.conditions <= conds and h.scope.contains(scope)]
        if any(h.everything for h in cover):
            continue
        covered: set[str] = set()
        for h in cover:
            covered |= h.actions
        reported: set[str] = set()
        for g in grants:
            if g.everything and EVERYTHING not in reported:
                reported.add(EVERYTHING)
                out.append(Added(EVERYTHING, scope, conds, g.source))
            for action in sorted(g.actions - covered - reported):
                unknown = action not in known and ":" in action and not action.startswith("<")
                if unknown and any(h.covers_pattern(action) for h in cover):
                    continue
                reported.add(action)
                out.append(Added(action, scope, conds, g.source))
    out.sort(key=lambda x: (x.action, str(x.scope), sorted(x.conditions), str(x.source)))
    return out


def service_of(action: str) -> str:
    return action.split(":", 1)[0] if ":" in action and not action.startswith("<") else "*"


def grouped(added: Sequence[Added], catalogue: Catalogue) -> dict[tuple[str, str], list[Added]]:
    """(service, access level) -> the added actions of that group; unknown actions have level Unknown."""
    out: dict[tuple[str, str], list[Added]] = defaultdict(list)
    for x in added:
        level = "Everything" if x.action == EVERYTHING else catalogue.level(x.action)
        out[(service_of(x.action), level)].append(x)
    return dict(sorted(out.items()))


def describe(items: Sequence[Added], catalogue: Catalogue) -> list[str]:
    """One line per (scope, conditions, statement): the actions it adds, and where they come from."""
    by: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for x in items:
        cond = f" if {'; '.join(sorted(x.conditions))}" if x.conditions else ""
        by[(str(x.scope), cond, str(x.source))].append(catalogue.display(x.action))
    return [f"{', '.join(sorted(acts))} on {scope}{cond} <- {src}" for (scope, cond, src), acts in sorted(by.items())]
