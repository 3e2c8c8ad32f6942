"""Snapshots in and out of the store: content-addressed resource versions and membership intervals.

Writing a snapshot of (environment, source) compares the set of resource-version hashes it holds with the
source's open intervals: versions that disappeared get their interval closed at this scan, versions that appeared
get a new open interval (and a ``resource_versions`` row if that content was never stored). Unchanged resources
cost nothing. Reading the snapshot of scan S takes the intervals with ``from_scan <= S < until_scan``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from parity.errors import UsageError
from parity.model import Resource, Snapshot
from parity.serialize import canonical_json, resource_from_dict, resource_to_dict, snapshot_from, snapshot_meta
from parity.store.tables import memberships, resource_versions, scan_sources, scans, snapshot_metas, to_utc
from parity.store.types import ResourceChange, ResourceDelta

T = TypeVar("T")
CHUNK = 1000  # bound parameters per IN (...) list: far below SQLite's and PostgreSQL's limits


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def hashed(value: Any) -> tuple[str, str]:
    """``(content_hash(value), canonical JSON text)`` with one serialisation instead of two."""
    body = canonical_json(value)
    return hashlib.sha256(body).hexdigest(), body.decode()


def _existing(conn: Connection, column: sa.Column[str], hashes: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(hashes):
        found.update(conn.execute(sa.select(column).where(column.in_(part))).scalars())
    return found


def _valid_at(scan_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        memberships.c.from_scan <= scan_id,
        sa.or_(memberships.c.until_scan.is_(None), memberships.c.until_scan > scan_id),
    )


def write_snapshot(conn: Connection, scan_id: int, snap: Snapshot) -> int:
    """Record ``snap`` as seen by scan ``scan_id``; returns how many distinct resources it holds."""
    bodies: dict[str, str] = {}
    for r in snap.resources:
        h, body = hashed(resource_to_dict(r))
        bodies[h] = body

    where_source = sa.and_(memberships.c.environment == snap.environment, memberships.c.source == snap.source)
    open_rows = conn.execute(
        sa.select(memberships.c.id, memberships.c.version).where(where_source, memberships.c.until_scan.is_(None))
    ).all()
    open_ids: dict[str, int] = {}
    to_close: list[int] = []
    for row_id, version in open_rows:
        if version in bodies and version not in open_ids:
            open_ids[version] = row_id
        else:
            to_close.append(row_id)  # gone from the source (or a duplicate interval, which never should exist)
    appeared = [h for h in bodies if h not in open_ids]

    known = _existing(conn, resource_versions.c.hash, appeared)
    new_versions = [{"hash": h, "body": bodies[h]} for h in appeared if h not in known]
    if new_versions:
        conn.execute(resource_versions.insert(), new_versions)
    if appeared:
        conn.execute(
            memberships.insert(),
            [
                {
                    "environment": snap.environment,
                    "source": snap.source,
                    "version": h,
                    "from_scan": scan_id,
                    "until_scan": None,
                }
                for h in appeared
            ],
        )
    for part in chunks(to_close):
        conn.execute(sa.update(memberships).where(memberships.c.id.in_(part)).values(until_scan=scan_id))

    meta = snapshot_meta(snap)
    for k in ("environment", "source", "collected_at"):  # columns of scan_sources, so the rest deduplicates
        del meta[k]
    meta_hash, meta_body = hashed(meta)
    if not _existing(conn, snapshot_metas.c.hash, [meta_hash]):
        conn.execute(snapshot_metas.insert(), [{"hash": meta_hash, "body": meta_body}])
    conn.execute(
        scan_sources.insert(),
        [
            {
                "scan_id": scan_id,
                "environment": snap.environment,
                "source": snap.source,
                "collected_at": to_utc(snap.collected_at),
                "meta_hash": meta_hash,
                "resource_count": len(bodies),
            }
        ],
    )
    return len(bodies)


def _resources(bodies: Iterable[str]) -> tuple[Resource, ...]:
    """Resources from stored bodies, in a stable order: (type, key, id), then content."""
    decoded = sorted(
        ((orjson.loads(b), b) for b in bodies), key=lambda p: (p[0]["type"], p[0]["key"], p[0]["id"], p[1])
    )
    return tuple(resource_from_dict(d) for d, _ in decoded)


def require_scan(conn: Connection, scan_id: int) -> None:
    if conn.execute(sa.select(scans.c.id).where(scans.c.id == scan_id)).first() is None:
        raise UsageError(f"no scan {scan_id} in the store")


def read_snapshots(conn: Connection, scan_id: int) -> list[Snapshot]:
    """Every snapshot scan ``scan_id`` recorded, rebuilt with its resources; sorted by (environment, source)."""
    require_scan(conn, scan_id)
    rows = conn.execute(
        sa.select(scan_sources.c.environment, scan_sources.c.source, scan_sources.c.collected_at, snapshot_metas.c.body)
        .join(snapshot_metas, snapshot_metas.c.hash == scan_sources.c.meta_hash)
        .where(scan_sources.c.scan_id == scan_id)
        .order_by(scan_sources.c.environment, scan_sources.c.source)
    ).all()
    out: list[Snapshot] = []
    for environment, source, collected_at, meta_body in rows:
        bodies = (
            conn.execute(
                sa.select(resource_versions.c.body)
                .join(memberships, memberships.c.version == resource_versions.c.hash)
                .where(memberships.c.environment == environment, memberships.c.source == source, _valid_at(scan_id))
            )
            .scalars()
            .all()
        )
        meta = orjson.loads(meta_body)
        meta.update(environment=environment, source=source, collected_at=collected_at.isoformat())
        out.append(snapshot_from(meta, _resources(bodies)))
    return out


def _state(conn: Connection, environment: str, scan_id: int) -> set[tuple[str, str]]:
    """``{(source, version hash)}`` of ``environment`` as of scan ``scan_id``."""
    rows = conn.execute(
        sa.select(memberships.c.source, memberships.c.version).where(
            memberships.c.environment == environment, _valid_at(scan_id)
        )
    ).all()
    return {(source, version) for source, version in rows}


def _bodies(conn: Connection, hashes: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in chunks(hashes):
        rows = conn.execute(
            sa.select(resource_versions.c.hash, resource_versions.c.body).where(resource_versions.c.hash.in_(part))
        ).all()
        out.update({h: b for h, b in rows})
    return out


def changes_between(conn: Connection, older_scan: int, newer_scan: int, environment: str) -> ResourceDelta:
    """Resources of ``environment`` added, removed or changed from one scan to the other, by (source, type, key).

    Only the versions that differ between the two states are read and decoded.
    """
    require_scan(conn, older_scan)
    require_scan(conn, newer_scan)
    before, after = _state(conn, environment, older_scan), _state(conn, environment, newer_scan)
    gone, came = before - after, after - before
    bodies = _bodies(conn, sorted({h for _, h in gone | came}))

    def index(pairs: set[tuple[str, str]]) -> dict[tuple[str, str, str], Resource]:
        out: dict[tuple[str, str, str], Resource] = {}
        for source, h in sorted(pairs, key=lambda p: (p[0], bodies[p[1]])):
            r = resource_from_dict(orjson.loads(bodies[h]))
            out.setdefault((source, r.type, r.key), r)
        return out

    old, new = index(gone), index(came)
    added = [ResourceChange(s, t, k, None, new[(s, t, k)]) for s, t, k in sorted(new.keys() - old.keys())]
    removed = [ResourceChange(s, t, k, old[(s, t, k)], None) for s, t, k in sorted(old.keys() - new.keys())]
    changed = [ResourceChange(s, t, k, old[(s, t, k)], new[(s, t, k)]) for s, t, k in sorted(old.keys() & new.keys())]
    return ResourceDelta(environment, older_scan, newer_scan, tuple(added), tuple(removed), tuple(changed))


def resource_counts(conn: Connection, scan_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """``{scan id: {environment: resources recorded}}``."""
    out: dict[int, dict[str, int]] = {}
    for part in chunks(scan_ids):
        rows = conn.execute(
            sa.select(scan_sources.c.scan_id, scan_sources.c.environment, sa.func.sum(scan_sources.c.resource_count))
            .where(scan_sources.c.scan_id.in_(part))
            .group_by(scan_sources.c.scan_id, scan_sources.c.environment)
        ).all()
        for scan_id, environment, count in rows:
            out.setdefault(scan_id, {})[environment] = int(count or 0)
    return out
