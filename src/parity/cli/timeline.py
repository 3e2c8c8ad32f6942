"""What ``parity history`` shows beyond the scan list: changes between consecutive scans of an environment,
and one resource's timeline in each environment.

Both read the store only (resource versions are kept whole, so the changed paths are recomputed with
:func:`parity.compare.diff.diff` on the stored canonical attributes, exactly as a comparison would name them).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parity.compare.diff import diff
from parity.model import Finding, Resource
from parity.store import ResourceChange, ResourceDelta, ScanInfo, Store, VersionSpan

MAX_PATHS = 20
MAX_RESOURCES = 20


def changed_paths(before: Resource | None, after: Resource | None) -> list[str]:
    """The attribute paths (and ``tags``) that differ between two versions of one resource."""
    if before is None or after is None:
        return []
    paths = [c.path for c in diff(dict(before.attributes), dict(after.attributes))]
    if dict(before.tags) != dict(after.tags) and "tags" not in before.attributes:
        paths.append("tags")
    return paths


def _change_dict(c: ResourceChange) -> dict[str, Any]:
    r = c.after or c.before
    assert r is not None
    d: dict[str, Any] = {"source": c.source, "type": c.type, "key": c.key, "id": r.id}
    if c.before is not None and c.after is not None:
        d["paths"] = changed_paths(c.before, c.after)
    return d


def delta_dict(delta: ResourceDelta) -> dict[str, Any]:
    return {
        "since_scan": delta.older_scan,
        "added": [_change_dict(c) for c in delta.added],
        "removed": [_change_dict(c) for c in delta.removed],
        "changed": [_change_dict(c) for c in delta.changed],
    }


def scan_changes(store: Store, scans: Sequence[ScanInfo], envs: Sequence[str]) -> dict[int, dict[str, Any]]:
    """``{scan id: {environment: delta_dict}}``: for each listed scan and environment it covered, what changed
    since the previous scan that covered that environment (absent for an environment's first scan)."""
    out: dict[int, dict[str, Any]] = {}
    for env in envs:
        ids = [i for i, _ in store.environment_scans(env)]
        previous = dict(zip(ids[1:], ids, strict=False))
        for s in scans:
            if env in s.environments and s.id in previous:
                out.setdefault(s.id, {})[env] = delta_dict(store.changes_between(previous[s.id], s.id, env))
    return out


@dataclass
class Version:
    span: VersionSpan
    paths: list[str] = field(default_factory=list)
    event: str = "changed"  # added | changed | re-added


@dataclass
class Timeline:
    """One resource (environment, source, type, key) over the scans: its versions, oldest first."""

    environment: str
    source: str
    type: str
    key: str
    id: str
    versions: list[Version]

    @property
    def present(self) -> bool:
        return self.versions[-1].span.until_scan is None

    def to_dict(self) -> dict[str, Any]:
        first, last = self.versions[0].span, self.versions[-1].span
        return {
            "environment": self.environment,
            "source": self.source,
            "type": self.type,
            "key": self.key,
            "id": self.id,
            "first_seen": first.from_time.isoformat(),
            "last_seen": None if last.until_time is None else last.until_time.isoformat(),
            "present": self.present,
            "versions": [
                {
                    "event": v.event,
                    "from_scan": v.span.from_scan,
                    "from": v.span.from_time.isoformat(),
                    "until_scan": v.span.until_scan,
                    "until": None if v.span.until_time is None else v.span.until_time.isoformat(),
                    "paths": v.paths,
                }
                for v in self.versions
            ],
        }


def matches(r: Resource, pattern: str) -> bool:
    """A resource named by ``pattern``: its key, id or name, exactly or as a glob."""
    names = [n for n in (r.key, r.id, r.name, f"{r.type}.{r.name}" if r.name else None) if n]
    if any(c in pattern for c in "*?["):
        return any(fnmatch.fnmatchcase(n, pattern) for n in names)
    return pattern in names


def _needle(pattern: str) -> str | None:
    """A substring every stored body of a matching resource contains (None for a glob)."""
    if any(c in pattern for c in "*?["):
        return None
    return json.dumps(pattern)[1:-1]


def timelines(store: Store, envs: Sequence[str], pattern: str) -> list[Timeline]:
    """The timeline of every stored resource ``pattern`` names, in each of ``envs``."""
    needle = _needle(pattern)
    out: list[Timeline] = []
    for env in envs:
        spans = store.resource_history(env, (lambda body: needle in body) if needle else None)
        groups: dict[tuple[str, str, str], list[VersionSpan]] = {}
        for sp in spans:
            if matches(sp.resource, pattern):
                groups.setdefault((sp.source, sp.resource.type, sp.resource.key), []).append(sp)
        for (source, type_, key), group in sorted(groups.items()):
            group.sort(key=lambda s: (s.from_scan, s.version))
            versions: list[Version] = []
            for i, sp in enumerate(group):
                if i == 0:
                    versions.append(Version(sp, [], "added"))
                    continue
                prev = group[i - 1]
                event = "changed" if prev.until_scan == sp.from_scan else "re-added"
                versions.append(Version(sp, changed_paths(prev.resource, sp.resource), event))
            out.append(Timeline(env, source, type_, key, group[-1].resource.id, versions))
    return out


def findings_about(findings: Sequence[Finding], lines: Sequence[Timeline]) -> list[Finding]:
    """Stored findings that name one of the timelines' resources (same type and key, or its native id)."""
    keys = {(t.type, t.key) for t in lines}
    ids = {(t.environment, t.id) for t in lines}
    return [
        f for f in findings if (f.type, f.key) in keys or any((env, rid) in ids for env, rid in f.resources.items())
    ]
