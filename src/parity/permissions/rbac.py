"""Kubernetes RBAC: (Cluster)Roles and (Cluster)RoleBindings as permission sets per subject.

A subject (``User/alice``, ``Group/devs``, ``ServiceAccount/ns/name``) gets, for every binding naming it,
the rules of the bound role. A rule's verbs on ``apiGroup/resource`` (``/resourceName`` when named) are
the actions (``apps/deployments:patch``); the scope is the namespace of a RoleBinding, ``*`` for a
ClusterRoleBinding. ``*`` verbs and resources stay literal globs, compared by containment like IAM's,
so the diff (:mod:`parity.permissions.diff`) works unchanged. Subjects pair across environments by
their name with the environment's placeholders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from parity.compare.envinfo import placeholders_for
from parity.compare.types import Inventory, Rules
from parity.model import Change, Finding, Resource, Severity
from parity.permissions.catalogue import Catalogue
from parity.permissions.diff import describe, wider
from parity.permissions.model import Grant, PermissionSet, Principal, Scope, Source

RBAC = "rbac.authorization.k8s.io/"


def _list(v: Any) -> list[str]:
    return [str(x) for x in v] if isinstance(v, list) else []


def _actions(rule: Mapping[str, Any]) -> tuple[frozenset[str], tuple[str, ...]]:
    acts: set[str] = set()
    for g in _list(rule.get("apiGroups")) or [""]:
        for res in _list(rule.get("resources")):
            names = _list(rule.get("resourceNames")) or [""]
            for n in names:
                target = f"{g or 'core'}/{res}" + (f"/{n}" if n else "")
                for verb in _list(rule.get("verbs")):
                    acts.add(f"{target}:{verb}")
    for url in _list(rule.get("nonResourceURLs")):
        for verb in _list(rule.get("verbs")):
            acts.add(f"url{url}:{verb}")
    return frozenset(acts), tuple(sorted(a for a in acts if "*" in a))


def _sub(ph: Any, s: str) -> str:
    return str(ph.sub_str(s))


def rbac_sets(inv: Inventory, rules: Rules, others: Iterable[Inventory] = ()) -> dict[str, PermissionSet]:
    """Subject key (placeholders applied) -> its permission set, from live RBAC objects when present."""
    res = [r for r in inv.resources("live") if r.type.startswith(RBAC)] or [
        r for r in inv.resources("declared") if r.type.startswith(RBAC)
    ]
    ph = placeholders_for(inv, rules, others)
    roles: dict[tuple[str, str], Resource] = {}
    for r in res:
        kind = r.type.rsplit("/", 1)[-1]
        if kind in ("Role", "ClusterRole"):
            ns = r.id.split("/", 1)[0] if kind == "Role" and "/" in r.id else ""
            roles[(kind, f"{ns}/{r.id.rsplit('/', 1)[-1]}" if kind == "Role" else r.id)] = r
    grants: dict[str, list[Grant]] = {}
    names: dict[str, str] = {}
    for b in res:
        kind = b.type.rsplit("/", 1)[-1]
        if kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        ns = b.id.split("/", 1)[0] if kind == "RoleBinding" and "/" in b.id else ""
        ref = b.attributes.get("roleRef") or {}
        rkind, rname = str(ref.get("kind", "")), str(ref.get("name", ""))
        role = roles.get((rkind, f"{ns}/{rname}" if rkind == "Role" else rname))
        scope = Scope.of(_sub(ph, ns) if ns else "*")
        for subj in b.attributes.get("subjects") or []:
            if not isinstance(subj, Mapping):
                continue
            sk = str(subj.get("kind", ""))
            sname = str(subj.get("name", ""))
            sns = str(subj.get("namespace", ns)) if sk == "ServiceAccount" else ""
            key = _sub(ph, f"{sk}/{sns + '/' if sns else ''}{sname}")
            names[key] = f"{sk}/{sns + '/' if sns else ''}{sname}"
            lst = grants.setdefault(key, [])
            if role is None:
                lst.append(Grant(frozenset({f"<{rkind} {rname} not found>"}), scope, frozenset(),
                                 Source(f"{rkind}/{rname}", "missing", f"{kind}/{b.id}")))  # fmt: skip
                continue
            for i, rule in enumerate(role.attributes.get("rules") or []):
                if isinstance(rule, Mapping):
                    acts, globs = _actions(rule)
                    if acts:
                        lst.append(Grant(acts, scope, frozenset(), Source(f"{rkind}/{rname}", f"rules[{i}]",
                                                                          f"{kind}/{b.id}"), globs))  # fmt: skip
    out: dict[str, PermissionSet] = {}
    for key, gs in grants.items():
        p = Principal("k8s-subject", names[key], names[key], key, inv.environment, resource_type="k8s/subject")
        out[key] = PermissionSet(p, tuple(gs))
    return out


def rbac_gaps(left: Inventory, right: Inventory, rules: Rules, catalogue: Catalogue) -> list[Finding]:
    """``permission_gap`` per subject that may do more in one environment's cluster than in the other's."""
    ls, rs = rbac_sets(left, rules, [right]), rbac_sets(right, rules, [left])
    envs = (left.environment, right.environment)
    out: list[Finding] = []
    for key in sorted(set(ls) & set(rs)):
        for a, b, env in ((ls[key], rs[key], envs[0]), (rs[key], ls[key], envs[1])):
            added = wider(a, b)
            if not added:
                continue
            other = envs[1] if env == envs[0] else envs[0]
            lines = describe(added, catalogue)
            escal = any(x.action.split(":")[-1] in ("*", "escalate", "bind", "impersonate") or
                        x.action.startswith(("core/secrets", "rbac.authorization.k8s.io/")) for x in added)  # fmt: skip
            ws, os_ = rules.stage(env), rules.stage(other)
            sev: Severity = "critical" if escal else ("high" if ws is not None and os_ is not None and ws > os_
                                                       else "medium")  # fmt: skip
            out.append(Finding(
                kind="permission_gap", severity=sev, type="rbac.authorization.k8s.io/subject", key=key,
                environments=envs, resources={envs[0]: ls[key].principal.id, envs[1]: rs[key].principal.id},
                changes=(Change("rbac", lines if env == envs[0] else None, lines if env == envs[1] else None),),
                message=f"{a.principal.name} may do more in {env} than in {other}: {len(added)} verb/resource "
                f"pair(s)", detail=f"wider-in:{env}",
            ))  # fmt: skip
    return out
