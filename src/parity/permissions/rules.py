"""``policy_violation`` for the permission rules of ``parity.yaml`` (``rules:``).

- ``no_admin_humans`` (critical): a human principal with admin-equivalent effective permissions.
- ``max_grant_age`` (high): an elevated grant outside code older than ``days`` (see
  :mod:`parity.permissions.elevated` for how the age is known).
- ``no_wildcard_resource_for`` (medium): a principal allowed actions of a listed service on
  ``Resource: "*"``; actions that cannot be scoped to a resource are exempt. One finding per service.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping

from parity.config import MaxGrantAgeRule, NoAdminHumansRule, NoWildcardResourceForRule
from parity.model import Change, Finding, Severity
from parity.permissions.catalogue import Catalogue
from parity.permissions.elevated import Usage, elevated_grants, is_admin, usage_parts
from parity.permissions.environment import EnvPermissions
from parity.permissions.model import ANY, PermissionSet


def _violation(s: PermissionSet, rule: str, detail: str, severity: Severity, message: str,
               changes: tuple[Change, ...] = ()) -> Finding:  # fmt: skip
    p = s.principal
    return Finding(
        kind="policy_violation", severity=severity, type=p.resource_type or p.kind, key=p.key,
        environments=(p.environment,), resources={p.environment: p.id}, changes=changes,
        message=f"{message} [rule {rule}]", detail=f"{rule}:{detail}",
    )  # fmt: skip


def no_admin_humans(env: EnvPermissions) -> Iterator[Finding]:
    for s in env.sets.values():
        why = is_admin(s.grants) if s.principal.human else ""
        if why:
            p = s.principal
            srcs = sorted({str(g.source) for g in s.grants if g.scope == ANY and not g.conditions and
                           (g.everything or is_admin([g]))})  # fmt: skip
            yield _violation(s, "no_admin_humans", "admin", "critical",
                             f"{p.kind} {p.name} ({p.human_reason}) is admin-equivalent in {p.environment}: {why}",
                             (Change("granted_by", None, srcs),))  # fmt: skip


def max_grant_age(
    env: EnvPermissions, rule: MaxGrantAgeRule, catalogue: Catalogue, today: dt.date,
    usage: Mapping[tuple[str, str], Usage] | None = None,
) -> Iterator[Finding]:  # fmt: skip
    for e in elevated_grants(env, catalogue, today):
        if e.age_days is not None and e.age_days > rule.days:
            p = e.set.principal
            via = f" via {e.policy.via}" if e.policy.via else ""
            accessed, more, notes = usage_parts((usage or {}).get((p.environment, p.key)))
            f = _violation(e.set, "max_grant_age", f"{e.policy.name}{via}", "high",
                           f"{p.kind} {p.name} has held {e.policy.name}{via} outside code for up to {e.age_days} "
                           f"day(s) (since {e.since}); at most {rule.days} allowed in {p.environment}{accessed}",
                           (Change("age_days", None, e.age_days), *more))  # fmt: skip
            yield dataclasses.replace(f, notes=notes)


def no_wildcard_resource(
    env: EnvPermissions, rule: NoWildcardResourceForRule, catalogue: Catalogue
) -> Iterator[Finding]:
    services = {s.lower() for s in rule.services}
    for s in env.sets.values():
        hits: dict[str, set[str]] = {}
        for g in s.grants:
            if g.scope != ANY:
                continue
            for a in g.actions:
                svc = a.split(":", 1)[0]
                info = catalogue.info(a)
                if svc in services and (info is None or info.scopable):
                    hits.setdefault(svc, set()).add(str(g.source))
        for svc, srcs in sorted(hits.items()):
            p = s.principal
            yield _violation(s, "no_wildcard_resource_for", svc, "medium",
                             f"{p.kind} {p.name} is allowed {svc} actions on Resource \"*\" in {p.environment}",
                             (Change("granted_by", None, sorted(srcs)),))  # fmt: skip


def check_rules(
    rules: Iterable[object], envs: dict[str, EnvPermissions], catalogue: Catalogue, today: dt.date,
    usage: Mapping[tuple[str, str], Usage] | None = None,
) -> list[Finding]:  # fmt: skip
    out: list[Finding] = []
    for rule in rules:
        if not isinstance(rule, NoAdminHumansRule | MaxGrantAgeRule | NoWildcardResourceForRule):
            continue
        for name in rule.environments:
            env = envs.get(name)
            if env is None:
                continue
            if isinstance(rule, NoAdminHumansRule):
                out += no_admin_humans(env)
            elif isinstance(rule, MaxGrantAgeRule):
                out += max_grant_age(env, rule, catalogue, today, usage)
            else:
                out += no_wildcard_resource(env, rule, catalogue)
    return out
