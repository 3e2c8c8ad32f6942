"""Per-environment facts the comparison needs: accounts, placeholders, which role to compare, coverage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from parity.compare.types import Inventory, Rules
from parity.model import Resource, Snapshot
from parity.normalize.placeholders import Placeholders

# Snapshot.facts names under which a source may record the account ids of its environment.
ACCOUNT_FACTS = ("account_ids", "account_id", "accounts", "account")


def env_accounts(env: str, rules: Rules, inv: Inventory | None = None) -> tuple[str, ...]:
    """The account ids of ``env``: configured (``environments.<env>.accounts``) plus what sources learnt."""
    out = dict.fromkeys(rules.accounts.get(env, ()))
    if inv is not None:
        for name in ACCOUNT_FACTS:
            out.update(dict.fromkeys(inv.facts(name)))
    return tuple(a for a in out if a)


def env_tokens(env: str, rules: Rules) -> tuple[str, ...]:
    return tuple(rules.tokens.get(env, (env.lower(),)))


def placeholders_for(inv: Inventory, rules: Rules, others: Iterable[Inventory] = ()) -> Placeholders:
    """The placeholder substitution of ``inv``'s environment; accounts of other environments stay visible."""
    own = env_accounts(inv.environment, rules, inv)
    foreign: dict[str, None] = {}
    for env in rules.accounts:
        if env != inv.environment:
            foreign.update(dict.fromkeys(rules.accounts[env]))
    for o in others:
        if o.environment != inv.environment:
            foreign.update(dict.fromkeys(env_accounts(o.environment, rules, o)))
    return Placeholders(env_tokens(inv.environment, rules), own, (a for a in foreign if a not in own))


def compared_role(left: Inventory, right: Inventory) -> str | None:
    """Like with like: "live" when both sides have live sources, else "declared" when both have declared
    ones, else None (each side's everything: one side only has code, the other only a live export)."""
    lr = {s.role for s in left.snapshots}
    rr = {s.role for s in right.snapshots}
    if "live" in lr and "live" in rr:
        return "live"
    if "declared" in lr and "declared" in rr:
        return "declared"
    return None


def snapshots_of(inv: Inventory, role: str | None) -> tuple[Snapshot, ...]:
    return tuple(s for s in inv.snapshots if role is None or s.role == role)


def resources_of(snaps: Sequence[Snapshot]) -> list[Resource]:
    return [r for s in snaps for r in s.resources]


def covers(snaps: Sequence[Snapshot], type_: str) -> bool:
    """True when no snapshot has a coverage gap that may hide resources of ``type_``."""
    return all(s.coverage.covers_type(type_) for s in snaps)


def label(r: Resource) -> str:
    """How a resource is named in messages."""
    return r.name or r.key or r.id


def summarize_paths(paths: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")
