"""The :class:`Store`: every scan parity runs, kept in SQLite or PostgreSQL through one code path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from parity.errors import ParityError
from parity.interrupt import shielded
from parity.model import Finding, Snapshot
from parity.store import findings_store, history, inventory, watch_store
from parity.store.engine import WRITE, create_engine, migrate, parse_url, translated
from parity.store.lifecycle import coverage_by_environment
from parity.store.tables import ALL_TABLES, scan_environments, scans, store_lock, to_utc
from parity.store.types import AlertQueue, RecordedScan, ResourceDelta, ScanInfo, VersionSpan

_NO_LIMIT = 2**31


class Store(watch_store.WatchStoreMethods):
    """Recorded scans: snapshots (content-addressed, interval membership), findings and their lifecycle.

    ``url``: ``sqlite:///path`` (the folder is created) or ``postgresql+psycopg://...``. A bad URL or an
    unreachable database raises :class:`~parity.errors.ParityError` with the password masked. Call
    :meth:`migrate` before use (cheap when the schema is current).
    """

    def __init__(self, url: str) -> None:
        parsed = parse_url(url)
        self.url = parsed.render_as_string(hide_password=True)  # masked: safe to show
        self._engine = create_engine(parsed)
        with shielded(), translated(self.url), self._engine.connect():
            pass  # fail now, with a clear message, if the database cannot be reached

    # ------------------------------------------------------------ plumbing
    # Every use of a connection is shielded (parity.interrupt): a signal never cuts a transaction in half.

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with shielded(), translated(self.url), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction that takes the write lock first (see engine.py): committed whole or not at all."""
        with (
            shielded(),
            translated(self.url),
            self._engine.connect().execution_options(**{WRITE: True}) as conn,
            conn.begin(),
        ):
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic ``upgrade head``); idempotent and cheap."""
        with shielded():
            migrate(self._engine, self.url)

    def close(self) -> None:
        with shielded():
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ scans

    def record_scan(
        self,
        *,
        environments: Sequence[str],
        snapshots: Sequence[Snapshot],
        findings: Sequence[Finding],
        started_at: dt.datetime,
        finished_at: dt.datetime,
        today: dt.date | None = None,
        alerts: AlertQueue | None = None,
    ) -> RecordedScan:
        """Store one scan in one transaction and apply the finding lifecycle.

        ``environments``: what the scan covered (snapshot environments are added). A stored finding this scan
        did not report is resolved only if every environment it names was scanned and no snapshot there has a
        coverage gap for its type.

        ``alerts``: given the scan id and its findings (lifecycle set), the ``(notifier id, payload)`` rows to
        queue in the alert outbox, in this same transaction (see :mod:`parity.store.watch_store`).
        """
        today = today or dt.date.today()
        started, finished = to_utc(started_at), to_utc(finished_at)
        envs = list(dict.fromkeys([*environments, *(s.environment for s in snapshots)]))
        seen: set[tuple[str, str]] = set()
        for s in snapshots:
            if (s.environment, s.source) in seen:
                raise ParityError(f"two snapshots of source {s.source!r} in environment {s.environment!r} in one scan")
            seen.add((s.environment, s.source))

        with self._write() as conn:
            locked = conn.execute(sa.update(store_lock).values(counter=store_lock.c.counter + 1))
            if locked.rowcount != 1:
                raise ParityError(f"store {self.url} is not initialised: run migrate() first")
            scan_id = conn.execute(
                scans.insert()
                .values(started_at=started, finished_at=finished, finding_counts="{}")
                .returning(scans.c.id)
            ).scalar_one()
            if envs:
                conn.execute(scan_environments.insert(), [{"scan_id": scan_id, "environment": e} for e in envs])
            for snap in snapshots:
                inventory.write_snapshot(conn, scan_id, snap)
            shown, resolved, counts = findings_store.record(
                conn,
                scan_id,
                findings,
                frozenset(envs),
                coverage_by_environment(snapshots),
                finished,
                today,
            )
            if alerts is not None:
                watch_store.enqueue(conn, scan_id, alerts(scan_id, shown), finished)
            conn.execute(
                sa.update(scans)
                .where(scans.c.id == scan_id)
                .values(finding_counts=orjson.dumps(counts, option=orjson.OPT_SORT_KEYS).decode())
            )
        return RecordedScan(scan_id, tuple(shown), tuple(resolved))

    def scans(self, limit: int = 50, environment: str | None = None) -> list[ScanInfo]:
        """Recorded scans, newest first; only those that covered ``environment`` when given."""
        if limit <= 0:
            return []
        query = sa.select(scans).order_by(scans.c.id.desc())
        if limit < _NO_LIMIT:  # past it the drivers overflow (SQLite: 64 bits); no store holds that many scans
            query = query.limit(limit)
        if environment is not None:
            query = query.where(
                scans.c.id.in_(
                    sa.select(scan_environments.c.scan_id).where(scan_environments.c.environment == environment)
                )
            )
        with self._read() as conn:
            rows = conn.execute(query).all()
            ids = [r.id for r in rows]
            envs: dict[int, list[str]] = {}
            for part in inventory.chunks(ids):
                for scan_id, env in conn.execute(
                    sa.select(scan_environments.c.scan_id, scan_environments.c.environment)
                    .where(scan_environments.c.scan_id.in_(part))
                    .order_by(scan_environments.c.environment)
                ):
                    envs.setdefault(scan_id, []).append(env)
            counts = inventory.resource_counts(conn, ids)
        return [
            ScanInfo(
                id=r.id,
                started_at=r.started_at,
                finished_at=r.finished_at,
                environments=tuple(envs.get(r.id, ())),
                resources={e: counts.get(r.id, {}).get(e, 0) for e in envs.get(r.id, ())},
                findings=orjson.loads(r.finding_counts),
            )
            for r in rows
        ]

    def snapshots(self, scan_id: int) -> list[Snapshot]:
        """The snapshots scan ``scan_id`` recorded, with their resources (sorted by type, key, id)."""
        with self._read() as conn:
            return inventory.read_snapshots(conn, scan_id)

    def changes_between(self, older_scan: int, newer_scan: int, environment: str) -> ResourceDelta:
        """Resources of ``environment`` added, removed and changed from ``older_scan`` to ``newer_scan``."""
        with self._read() as conn:
            return inventory.changes_between(conn, older_scan, newer_scan, environment)

    def resource_history(self, environment: str, keep: history.BodyFilter | None = None) -> list[VersionSpan]:
        """Every resource version ``environment`` held and the scans it was present in (see :mod:`.history`)."""
        with self._read() as conn:
            return history.resource_history(conn, environment, keep)

    def environment_scans(self, environment: str) -> list[tuple[int, dt.datetime]]:
        """``(scan id, started_at)`` of every scan that covered ``environment``, oldest first."""
        with self._read() as conn:
            return history.environment_scans(conn, environment)

    # ------------------------------------------------------------ findings

    def annotate(self, findings: Sequence[Finding], today: dt.date | None = None) -> list[Finding]:
        """``findings`` with the status, first/last seen and notes a recorded scan would give them; writes nothing."""
        with self._read() as conn:
            return findings_store.annotate(conn, findings, today or dt.date.today())

    def findings(
        self, status: str | None = None, environment: str | None = None, *, today: dt.date | None = None
    ) -> list[Finding]:
        """The current state of every finding ever recorded (acceptances judged as of ``today``)."""
        with self._read() as conn:
            return findings_store.read(conn, status, environment, today or dt.date.today())

    def accept(
        self, finding_id: str, *, owner: str, reason: str, expires: dt.date, today: dt.date | None = None
    ) -> Finding:
        """Accept a finding (its id or a unique prefix of at least 6 characters) until ``expires``.

        Raises :class:`~parity.errors.UsageError` for an unknown or ambiguous id, a missing owner or reason, or
        an expiry in the past.
        """
        now = dt.datetime.now(dt.UTC)
        with self._write() as conn:
            return findings_store.accept(conn, finding_id, owner, reason, expires, now, today or dt.date.today())

    def database_bytes(self) -> int:
        """Bytes the store's tables take in the database: SQLite's used pages (its WAL included), PostgreSQL's
        total relation size of every table (with indexes and TOAST). For ``bench/`` and curious users."""
        with self._read() as conn:
            if self._engine.dialect.name == "sqlite":
                pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
                free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
                return int((pages - free) * conn.exec_driver_sql("PRAGMA page_size").scalar_one())
            return sum(
                int(conn.execute(sa.select(sa.func.pg_total_relation_size(t.name))).scalar_one()) for t in ALL_TABLES
            )

    def storage_stats(self) -> dict[str, int]:
        """Row count of every store table (for tests, ``bench/`` and curious users)."""
        with self._read() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()) for t in ALL_TABLES
            }
