"""The store: every scan parity runs, in SQLite (default) or PostgreSQL.

Public API (the CLI depends on exactly this):

- :class:`Store`: ``migrate``, ``record_scan``, ``annotate``, ``scans``, ``snapshots``, ``changes_between``,
  ``resource_history``, ``environment_scans``, ``findings``, ``accept``, ``storage_stats``, ``close``.
- :class:`RecordedScan`, :class:`ScanInfo`, :class:`ResourceDelta`, :class:`ResourceChange`: what it returns.

Resource versions are content-addressed and membership is kept as validity intervals, so a scan whose inventory
did not change adds a handful of rows whatever its size (see :mod:`parity.store.tables`).
"""

from __future__ import annotations

from parity.store.repository import Store
from parity.store.types import RecordedScan, ResourceChange, ResourceDelta, ScanInfo, VersionSpan
from parity.store.watch_store import OutboxEntry, ScanFailure

__all__ = [
    "OutboxEntry",
    "RecordedScan",
    "ResourceChange",
    "ResourceDelta",
    "ScanFailure",
    "ScanInfo",
    "Store",
    "VersionSpan",
]
