"""Inputs of the comparison: one environment's inventory and the rules from parity.yaml."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from parity.config import Expected, Ignore, LoadedConfig
from parity.model import Resource, Snapshot


@dataclass(frozen=True)
class Inventory:
    """Everything collected for one environment in one scan."""

    environment: str
    snapshots: tuple[Snapshot, ...]

    def resources(self, role: str | None = None) -> Iterator[Resource]:
        for snap in self.snapshots:
            if role is None or snap.role == role:
                yield from snap.resources

    def facts(self, name: str) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for snap in self.snapshots:
            for v in snap.facts.get(name, ()):
                out[v] = None
        return tuple(out)


@dataclass(frozen=True)
class Rules:
    """What the comparison needs from parity.yaml, with nothing to do with files."""

    tokens: Mapping[str, tuple[str, ...]]  # environment -> name tokens (prod, prd, production)
    pair_tags: tuple[str, ...] = ("app", "component", "service", "Name")
    expected: Sequence[Expected] = ()
    ignore: Sequence[Ignore] = ()
    promotion: tuple[str, ...] = ()
    accounts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # environment -> account ids
    hostnames: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # environment -> domains
    today: dt.date = field(default_factory=dt.date.today)

    @classmethod
    def from_config(cls, loaded: LoadedConfig, today: dt.date | None = None) -> Rules:
        c = loaded.config
        return cls(
            tokens=c.all_tokens(),
            pair_tags=tuple(c.naming.pair_tags),
            expected=tuple(c.expected),
            ignore=tuple(c.ignore),
            promotion=tuple(c.promotion),
            accounts={name: tuple(e.accounts) for name, e in c.environments.items()},
            hostnames={name: tuple(e.hostnames) for name, e in c.environments.items()},
            today=today or dt.date.today(),
        )

    def stage(self, env: str) -> int | None:
        return self.promotion.index(env) if env in self.promotion else None
