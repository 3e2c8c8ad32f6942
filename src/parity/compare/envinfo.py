"""Per-environment facts the comparison needs: accounts, placeholders, which role to compare, coverage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter

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


def _types_of(s: Snapshot) -> set[str]:
    return set(map(_TYPE, s.resources))


_TYPE = attrgetter("type")


def _live_types(inv: Inventory, types: Mapping[int, set[str]] | None = None) -> set[str]:
    """Types a live source of ``inv`` looked at: listed (Coverage.listed) or returned."""
    out: set[str] = set()
    for s in inv.snapshots:
        if s.role == "live":
            out.update(s.coverage.listed)
            out.update(types[id(s)] if types is not None else _types_of(s))
    return out


def _declared_types(inv: Inventory, types: Mapping[int, set[str]] | None = None) -> set[str]:
    out: set[str] = set()
    for s in inv.snapshots:
        if s.role == "declared":
            out.update(types[id(s)] if types is not None else _types_of(s))
    return out


def like_with_like(left: Inventory, right: Inventory) -> dict[str, str | None]:
    """Per resource type, what to compare: "live" when a live source of each side looked at the type,
    else "declared" when both sides declare it, else None (each side's everything: one side only has
    code for it, the other only a live view). Deciding per type keeps a production-only cluster export
    from making every Kubernetes object of staging look absent, while AWS types still compare live."""
    types = {id(s): _types_of(s) for inv in (left, right) for s in inv.snapshots}  # each snapshot read once
    live_l, live_r = _live_types(left, types), _live_types(right, types)
    decl_l, decl_r = _declared_types(left, types), _declared_types(right, types)
    all_types: set[str] = set().union(*types.values())
    out: dict[str, str | None] = {}
    for t in all_types:
        if t in live_l and t in live_r:
            out[t] = "live"
        elif t in decl_l and t in decl_r:
            out[t] = "declared"
        else:
            out[t] = None
    return out


def select(inv: Inventory, roles: dict[str, str | None]) -> tuple[list[Resource], dict[str, tuple[Snapshot, ...]]]:
    """The resources of ``inv`` each type's role selects, and per type the snapshots that speak for it."""
    res: list[Resource] = []
    for s in inv.snapshots:
        # the types whose role rules this snapshot out (usually none: take the snapshot whole)
        excluded = {t for t, role in roles.items() if role is not None and role != s.role}
        if not excluded:
            res.extend(s.resources)
        else:
            res.extend(r for r in s.resources if r.type not in excluded)
    by_role = {role: snapshots_of(inv, role) for role in ("live", "declared", None)}
    return res, {t: by_role[role] for t, role in roles.items()}


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
