"""Reading an environment's whole recorded history: every resource version with the scans it was present in.

The promotion ledger and ``parity history RESOURCE`` both need "which versions of what did environment E hold,
from when until when". The store already keeps exactly that as membership intervals over content-addressed
versions, so this only reads: one query for the intervals, one per chunk of distinct versions for the bodies
(each decoded once however many intervals point at it), and the scans' times. No table is added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from parity.model import Resource
from parity.serialize import resource_from_dict
from parity.store.inventory import chunks
from parity.store.tables import memberships, resource_versions, scan_environments, scan_sources, scans, snapshot_metas
from parity.store.types import VersionSpan

BodyFilter = Callable[[str], bool]


def _scan_times(conn: Connection, ids: Sequence[int]) -> dict[int, dt.datetime]:
    out: dict[int, dt.datetime] = {}
    for part in chunks(sorted(set(ids))):
        out.update(
            {i: t for i, t in conn.execute(sa.select(scans.c.id, scans.c.started_at).where(scans.c.id.in_(part)))}
        )
    return out


def _roles(conn: Connection, environment: str) -> dict[str, str]:
    """``{source: role}`` as of each source's most recent snapshot in ``environment``."""
    rows = conn.execute(
        sa.select(scan_sources.c.source, scan_sources.c.scan_id, snapshot_metas.c.body)
        .join(snapshot_metas, snapshot_metas.c.hash == scan_sources.c.meta_hash)
        .where(scan_sources.c.environment == environment)
        .order_by(scan_sources.c.scan_id)
    ).all()
    out: dict[str, str] = {}
    for source, _scan, body in rows:
        out[source] = str(orjson.loads(body).get("role", "declared"))
    return out


def environment_scans(conn: Connection, environment: str) -> list[tuple[int, dt.datetime]]:
    """``(scan id, started_at)`` of every scan that covered ``environment``, oldest first."""
    rows = conn.execute(
        sa.select(scans.c.id, scans.c.started_at)
        .join(scan_environments, scan_environments.c.scan_id == scans.c.id)
        .where(scan_environments.c.environment == environment)
        .order_by(scans.c.id)
    ).all()
    return [(i, t) for i, t in rows]


def resource_history(conn: Connection, environment: str, keep: BodyFilter | None = None) -> list[VersionSpan]:
    """Every interval during which a resource version was present in ``environment``, oldest first.

    ``keep``: a cheap test on a version's stored JSON text (e.g. a substring check for a type); versions it
    rejects are never decoded.
    """
    rows = conn.execute(
        sa.select(memberships.c.source, memberships.c.version, memberships.c.from_scan, memberships.c.until_scan).where(
            memberships.c.environment == environment
        )
    ).all()
    bodies: dict[str, Resource] = {}
    hashes = sorted({r.version for r in rows})
    for part in chunks(hashes):
        for h, body in conn.execute(
            sa.select(resource_versions.c.hash, resource_versions.c.body).where(resource_versions.c.hash.in_(part))
        ):
            if keep is None or keep(body):
                bodies[h] = resource_from_dict(orjson.loads(body))
    times = _scan_times(conn, [r.from_scan for r in rows] + [r.until_scan for r in rows if r.until_scan is not None])
    roles = _roles(conn, environment)
    out = [
        VersionSpan(
            environment=environment,
            source=r.source,
            role=roles.get(r.source, "declared"),
            resource=bodies[r.version],
            version=r.version,
            from_scan=r.from_scan,
            until_scan=r.until_scan,
            from_time=times[r.from_scan],
            until_time=times[r.until_scan] if r.until_scan is not None else None,
        )
        for r in rows
        if r.version in bodies
    ]
    out.sort(key=lambda s: (s.from_scan, s.source, s.resource.type, s.resource.key, s.version))
    return out
