"""What the store hands back: frozen dataclasses, all datetimes timezone-aware UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from parity.model import Finding, Resource

# Given a scan id and its findings (lifecycle set): the (notifier id, payload JSON) rows to queue with the scan.
AlertQueue = Callable[[int, Sequence[Finding]], Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class RecordedScan:
    """The result of :meth:`Store.record_scan`.

    ``findings``: this scan's findings with ``status``, ``first_seen``, ``last_seen`` (and any acceptance note)
    set. ``resolved``: stored findings this scan resolved (status ``resolved``).
    """

    scan_id: int
    findings: tuple[Finding, ...]
    resolved: tuple[Finding, ...]


@dataclass(frozen=True)
class ScanInfo:
    """One recorded scan, as ``parity history`` lists it."""

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime
    environments: tuple[str, ...]
    resources: Mapping[str, int] = field(default_factory=dict)  # environment -> resources recorded
    findings: Mapping[str, int] = field(default_factory=dict)  # status -> count (including "resolved")


@dataclass(frozen=True)
class ResourceChange:
    """One resource that appeared, disappeared or changed between two scans (``before``/``after`` None when absent).

    Identity is ``(source, type, key)`` inside one environment.
    """

    source: str
    type: str
    key: str
    before: Resource | None
    after: Resource | None


@dataclass(frozen=True)
class ResourceDelta:
    """How one environment's recorded inventory changed from ``older_scan`` to ``newer_scan``.

    Each scan's inventory is every source's state as of that scan (a source a scan did not include counts with
    its most recent earlier snapshot). Lists are sorted by (source, type, key).
    """

    environment: str
    older_scan: int
    newer_scan: int
    added: tuple[ResourceChange, ...] = ()
    removed: tuple[ResourceChange, ...] = ()
    changed: tuple[ResourceChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class VersionSpan:
    """One resource version present in ``environment`` (from source ``source``) from scan ``from_scan`` until
    just before ``until_scan`` (None: still present in the newest scan of that source).

    ``from_time``/``until_time`` are those scans' start times. ``role`` is the source's role (live/declared)
    as of its most recent snapshot.
    """

    environment: str
    source: str
    role: str
    resource: Resource
    version: str
    from_scan: int
    until_scan: int | None
    from_time: dt.datetime
    until_time: dt.datetime | None
