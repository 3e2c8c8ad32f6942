"""The store's schema as SQLAlchemy Core tables (the Alembic migrations create exactly this).

Why this shape (DESIGN.md section 8: an unchanged scan adds almost nothing):

- ``resource_versions``: one row per distinct resource *content*, keyed by ``content_hash(resource_to_dict(r))``.
  The body is the canonical JSON that was hashed, kept as plain text: per-row compression of bodies this small
  (a few hundred bytes) saves little next to deduplication, plain text stays inspectable with ``sqlite3``/``psql``
  and verifiable (``sha256(body) == hash``), and PostgreSQL already compresses large values (TOAST).
- ``memberships``: validity intervals. A row says "in environment E, source S, resource version V was present
  from scan ``from_scan`` until just before ``until_scan`` (NULL: still present)". A new scan of (E, S) only
  closes intervals of versions that disappeared and opens intervals for versions that appeared, so an unchanged
  inventory writes no membership rows at all. A scan that did not include (E, S) touches none of its rows.
- ``scan_sources``: one row per scan per snapshot (which scans saw which source), with ``collected_at`` and a
  pointer to the snapshot's content-addressed metadata (kind, role, coverage, facts) in ``snapshot_metas``.
- ``findings``: one row per finding fingerprint ever seen, with its lifecycle state; ``finding_environments``
  makes "findings naming environment E" an indexed query; ``finding_events`` keeps transitions only (new,
  resolved, recurring) so history grows with change, not with scans; ``acceptances`` are owner/reason/expiry.
- ``store_lock``: a single row every scan writer updates first, which serialises writers on every backend (a
  row lock on PostgreSQL, the write lock on SQLite) so interval bookkeeping never interleaves.

Datetimes are stored as UTC and always read back timezone-aware (:class:`UtcDateTime`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

HASH = sa.String(64)  # sha256 hex
FINDING_ID = sa.String(16)  # parity.model.fingerprint
NAME = sa.String(255)  # environment and source names


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A datetime stored as UTC and returned timezone-aware on every backend.

    Naive input is taken to be UTC already. SQLite keeps no offset and returns naive values (made UTC here);
    PostgreSQL returns values in the session time zone (converted to UTC here).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return to_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # defensive: a value written by another tool
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return to_utc(value)


def to_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime; naive values are taken to be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

store_lock = sa.Table(
    "store_lock",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("counter", sa.BigInteger, nullable=False),
)

scans = sa.Table(
    "scans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=False),
    # {"new": 3, "open": 10, "resolved": 2, ...}: fixed once the scan is recorded, so kept on the row.
    sa.Column("finding_counts", sa.Text, nullable=False),
)

scan_environments = sa.Table(
    "scan_environments",
    metadata,
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id"), primary_key=True),
    sa.Column("environment", NAME, primary_key=True),
    sa.Index(None, "environment", "scan_id"),
)

snapshot_metas = sa.Table(
    "snapshot_metas",
    metadata,
    sa.Column("hash", HASH, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),  # canonical JSON: kind, role, coverage, facts
)

scan_sources = sa.Table(
    "scan_sources",
    metadata,
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id"), primary_key=True),
    sa.Column("environment", NAME, primary_key=True),
    sa.Column("source", NAME, primary_key=True),
    sa.Column("collected_at", UtcDateTime, nullable=False),
    sa.Column("meta_hash", HASH, sa.ForeignKey("snapshot_metas.hash"), nullable=False),
    sa.Column("resource_count", sa.Integer, nullable=False),
    sa.Index(None, "environment", "source", "scan_id"),
)

resource_versions = sa.Table(
    "resource_versions",
    metadata,
    sa.Column("hash", HASH, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),  # canonical JSON of resource_to_dict, exactly what was hashed
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", NAME, nullable=False),
    sa.Column("source", NAME, nullable=False),
    sa.Column("version", HASH, sa.ForeignKey("resource_versions.hash"), nullable=False),
    sa.Column("from_scan", sa.Integer, sa.ForeignKey("scans.id"), nullable=False),
    sa.Column("until_scan", sa.Integer, sa.ForeignKey("scans.id"), nullable=True),
    # open intervals of one source (what a new scan is compared with) ...
    sa.Index(None, "environment", "source", "until_scan"),
    # ... and the intervals valid at a past scan (from_scan <= S < until_scan).
    sa.Index(None, "environment", "source", "from_scan"),
)

findings = sa.Table(
    "findings",
    metadata,
    sa.Column("id", FINDING_ID, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # finding_to_dict of the latest occurrence
    # lifecycle state: new, open, recurring, resolved ("accepted" is derived from acceptances when read)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("last_scan", sa.Integer, sa.ForeignKey("scans.id"), nullable=False),
    sa.Index(None, "state"),
)

finding_environments = sa.Table(
    "finding_environments",
    metadata,
    sa.Column("finding_id", FINDING_ID, sa.ForeignKey("findings.id"), primary_key=True),
    sa.Column("environment", NAME, primary_key=True),
    sa.Index(None, "environment"),
)

finding_events = sa.Table(
    "finding_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", FINDING_ID, sa.ForeignKey("findings.id"), nullable=False),
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id"), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),  # new, resolved, recurring
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index(None, "finding_id"),
    sa.Index(None, "scan_id"),
)

acceptances = sa.Table(
    "acceptances",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", FINDING_ID, sa.ForeignKey("findings.id"), nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("expires", sa.Date, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index(None, "finding_id"),
)


# ---------------------------------------------------------------- watch mode and alerts (migration 0002_alert_outbox)

alert_outbox = sa.Table(
    "alert_outbox",
    metadata,
    # One message per scan per notifier, written in the scan's transaction, delivered after commit.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id"), nullable=False),
    sa.Column("notifier", NAME, nullable=False),  # the notifier's id (parity.alerts.settings), never a secret
    sa.Column("payload", sa.Text, nullable=False),  # the parity/findings@1 document of the new/recurring findings
    sa.Column("state", sa.String(16), nullable=False),  # pending, sent, failed (gave up)
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("claimed_until", UtcDateTime, nullable=True),  # a deliverer is sending it until then
    sa.UniqueConstraint("scan_id", "notifier"),
    sa.Index(None, "state", "next_attempt_at"),
)

watch_leases = sa.Table(
    "watch_leases",
    metadata,
    # Which watcher is scanning an environment, until when; and when its last watched scan started.
    sa.Column("environment", NAME, primary_key=True),
    sa.Column("holder", sa.String(255), nullable=True),
    sa.Column("expires_at", UtcDateTime, nullable=True),
    sa.Column("last_started_at", UtcDateTime, nullable=True),
)

scan_failures = sa.Table(
    "scan_failures",
    metadata,
    # A watched scan that raised (a failing source, an unreachable API): nothing of it is in ``scans``.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", NAME, nullable=False),  # the watched environment the scan was for
    sa.Column("environments", sa.Text, nullable=False),  # comma-separated: every environment it covered
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=False),
    sa.Column("error", sa.Text, nullable=False),  # one line
    sa.Index(None, "environment", "id"),
)

# Every table the store owns, for storage_stats.
ALL_TABLES: tuple[sa.Table, ...] = tuple(t for t in metadata.sorted_tables if t is not store_lock)
