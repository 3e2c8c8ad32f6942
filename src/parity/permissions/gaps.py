"""``permission_gap`` findings: a principal that may do more in one environment than its mirror.

Principals pair across two environments like other resources (:func:`parity.compare.pair_resources`:
same key, pair tag, or name with environment tokens, account ids and regions as placeholders). One
finding per direction; its changes are the added actions grouped by service and access level
(``s3/Write``), each line traced to the statement that grants them.

Severity: ``critical`` when the added actions include a ``Permissions management`` action or
everything (``*``); else ``high`` when the wider side is the later promotion stage; else ``medium``.
"""

from __future__ import annotations

from collections.abc import Sequence

from parity.compare import pair_resources
from parity.compare.envinfo import placeholders_for
from parity.compare.types import Inventory, Rules
from parity.model import Change, Finding, Resource, Severity
from parity.permissions.catalogue import Catalogue
from parity.permissions.diff import EVERYTHING, Added, describe, grouped, wider
from parity.permissions.environment import EnvPermissions
from parity.permissions.model import PermissionSet


def _resource(s: PermissionSet) -> Resource:
    p = s.principal
    return Resource(type=p.resource_type or p.kind, id=p.id, key=p.key, name=p.name)


def pair_sets(
    left: EnvPermissions, right: EnvPermissions, li: Inventory, ri: Inventory, rules: Rules
) -> list[tuple[PermissionSet, PermissionSet]]:
    lp, rp = placeholders_for(li, rules, [ri]), placeholders_for(ri, rules, [li])
    lres = [_resource(s) for s in left.sets.values()]
    rres = [_resource(s) for s in right.sets.values()]
    pairing = pair_resources(lres, rres, lp, rp, rules.pair_tags)
    return [(left.sets[a.key], right.sets[b.key]) for a, b in pairing.pairs]


def gap_severity(added: Sequence[Added], catalogue: Catalogue, wider_env: str, other: str, rules: Rules) -> Severity:
    if any(x.action == EVERYTHING or catalogue.level(x.action) == "Permissions management" for x in added):
        return "critical"
    ws, os_ = rules.stage(wider_env), rules.stage(other)
    return "high" if ws is not None and os_ is not None and ws > os_ else "medium"


def gap_finding(
    a: PermissionSet, b: PermissionSet, added: Sequence[Added], envs: tuple[str, str], wider_env: str,
    catalogue: Catalogue, rules: Rules, key: str,
) -> Finding:  # fmt: skip
    other = envs[1] if wider_env == envs[0] else envs[0]
    changes = []
    summary = []
    for (service, level), items in grouped(added, catalogue).items():
        lines = describe(items, catalogue)
        left, right = (lines, None) if wider_env == envs[0] else (None, lines)
        changes.append(Change(f"{service}/{level}", left, right))
        summary.append(f"{service} {level} {len(items)}")
    p = a.principal
    resources = {a.principal.environment: a.principal.id, b.principal.environment: b.principal.id}
    shown = ", ".join(summary[:6]) + (f", +{len(summary) - 6} more groups" if len(summary) > 6 else "")
    return Finding(
        kind="permission_gap",
        severity=gap_severity(added, catalogue, wider_env, other, rules),
        type=p.resource_type or p.kind,
        key=key,
        environments=envs,
        resources=resources,
        message=f"{p.kind} {p.name} may do more in {wider_env} than in {other}: {len(added)} action(s) ({shown})",
        changes=tuple(changes),
        detail=f"wider-in:{wider_env}",
    )


def permission_gaps(
    left: EnvPermissions, right: EnvPermissions, li: Inventory, ri: Inventory, rules: Rules, catalogue: Catalogue
) -> list[Finding]:
    envs = (left.environment, right.environment)
    out: list[Finding] = []
    for a, b in pair_sets(left, right, li, ri, rules):
        for x, y, env in ((a, b, envs[0]), (b, a, envs[1])):
            added = wider(x, y)
            if added:
                out.append(gap_finding(x, y, added, envs, env, catalogue, rules, a.principal.key))
    return out
