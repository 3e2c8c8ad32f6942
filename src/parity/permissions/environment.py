"""One environment's permission sets: principals built from its IAM resources, evaluated.

Live IAM resources are used when the environment has them (what people can really do), else its
declared ones (Terraform states carry the same shapes), so a stored or code-only scan works too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from parity.compare.envinfo import placeholders_for
from parity.compare.types import Inventory, Rules
from parity.model import Resource
from parity.permissions.catalogue import Catalogue
from parity.permissions.evaluate import effective
from parity.permissions.model import PermissionSet
from parity.permissions.principals import PrincipalBuilder, declared_grants

IAM_PREFIXES = ("aws_iam_", "aws_organizations_")


def _iam(resources: Iterable[Resource]) -> list[Resource]:
    return [r for r in resources if r.type.startswith(IAM_PREFIXES)]


@dataclass
class EnvPermissions:
    """The evaluated principals of one environment and what its code declares."""

    environment: str
    role: str  # "live" or "declared": which resources the sets come from
    sets: dict[str, PermissionSet] = field(default_factory=dict)  # principal key -> set
    declared: set[tuple[str, str]] = field(default_factory=set)  # (type, live id) of declared IAM grants
    has_declared: bool = False
    scp_note: str = ""  # why the SCP layer could not be checked ("" when it was, or is not applicable)
    unread: dict[str, tuple[str, ...]] = field(default_factory=dict)  # principal id -> what could not be read

    @property
    def notes(self) -> list[str]:
        """Every principal's notes on what could not be read (its effective permissions are incomplete)."""
        return [n for _, notes in sorted(self.unread.items()) for n in notes]

    def by_name(self, name: str) -> list[PermissionSet]:
        low = name.lower()
        return [s for s in self.sets.values() if low in (s.principal.name.lower(), s.principal.id.lower(),
                                                             s.principal.key.lower())]  # fmt: skip


SCP_TYPE = "aws_organizations_policy"


def scp_note(inv: Inventory) -> str:
    """Why the SCPs limiting ``inv``'s live AWS principals are unknown ("" when they were read, or when
    no live ``aws`` source listed IAM): a denied or failed listing, or the type not selected."""
    for snap in inv.snapshots:
        if snap.kind != "aws" or snap.role != "live":
            continue
        gaps = [g for g in snap.coverage.gaps if g.type in (None, SCP_TYPE)]
        if gaps:
            return (f"SCPs not checked in {inv.environment} ({gaps[0].kind}: {gaps[0].reason}): effective "
                    "permissions may be narrower than shown")  # fmt: skip
        if SCP_TYPE not in snap.coverage.listed and any(r.type.startswith("aws_iam_") for r in snap.resources):
            return (f"SCPs not checked in {inv.environment} ({SCP_TYPE} not listed by source {snap.source}): "
                    "effective permissions may be narrower than shown")  # fmt: skip
    return ""


def environment_permissions(
    inv: Inventory, rules: Rules, catalogue: Catalogue, others: Iterable[Inventory] = ()
) -> EnvPermissions:
    live = _iam(inv.resources("live"))
    declared = _iam(inv.resources("declared"))
    role, used = ("live", live) if live else ("declared", declared)
    ph = placeholders_for(inv, rules, others)
    builder = PrincipalBuilder(catalogue, ph.sub_str)
    out = EnvPermissions(inv.environment, role, declared=declared_grants(declared), has_declared=bool(declared),
                         scp_note=scp_note(inv) if role == "live" else "")  # fmt: skip
    for p in builder.build(inv.environment, used):
        out.sets[p.key] = effective(p)
        if p.notes:
            out.unread[p.id] = p.notes
    return out


def all_permissions(
    inventories: Mapping[str, Inventory], rules: Rules, catalogue: Catalogue
) -> dict[str, EnvPermissions]:
    invs = list(inventories.values())
    return {env: environment_permissions(inv, rules, catalogue, invs) for env, inv in inventories.items()}
