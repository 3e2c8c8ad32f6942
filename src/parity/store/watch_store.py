"""Rows for watch mode and alerts: the alert outbox, watch leases and failed watched scans.

- **Outbox**: :func:`enqueue` runs inside ``record_scan``'s transaction, so a scan and its alerts are committed
  together or not at all. A deliverer first *claims* an entry (one conditional UPDATE: atomic on both backends),
  so two watchers never send the same alert at once; a claim lapses after ``claimed_until`` if its holder died.
  Success marks the entry ``sent``; a failure schedules the next attempt (backoff) or gives up (``failed``).
- **Leases**: one row per environment naming the watcher scanning it and until when. Taking leases goes through
  the ``store_lock`` row like every scan writer, so checking and taking are one serialised step on SQLite and
  PostgreSQL alike; all environments of a scan are leased together or not at all.
- **Failures**: a watched scan that raised is recorded here, one line, for history and metrics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from parity.errors import ParityError
from parity.store.tables import alert_outbox, scan_failures, store_lock, watch_leases

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class OutboxEntry:
    """One queued alert: a scan's new and recurring findings for one notifier."""

    id: int
    scan_id: int
    notifier: str
    payload: dict[str, Any]
    state: str  # pending, sent, failed
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


@dataclass(frozen=True)
class ScanFailure:
    """A watched scan that raised: nothing of it was stored but this."""

    id: int
    environment: str
    environments: tuple[str, ...]
    started_at: dt.datetime
    finished_at: dt.datetime
    error: str


LeaseResult = Literal["acquired", "busy", "done"]


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        scan_id=row.scan_id,
        notifier=row.notifier,
        payload=orjson.loads(row.payload),
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


# ---------------------------------------------------------------- outbox


def enqueue(conn: Connection, scan_id: int, rows: Sequence[tuple[str, str]], now: dt.datetime) -> None:
    """Queue ``(notifier id, payload JSON)`` rows for ``scan_id`` (inside the scan's transaction)."""
    if not rows:
        return
    conn.execute(
        alert_outbox.insert(),
        [
            {
                "scan_id": scan_id,
                "notifier": notifier,
                "payload": payload,
                "state": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for notifier, payload in rows
        ],
    )


def due(
    conn: Connection,
    now: dt.datetime,
    notifiers: Sequence[str],
    *,
    ignore_backoff: bool = False,
    limit: int = 100,
) -> list[OutboxEntry]:
    """Pending entries of ``notifiers`` whose next attempt is due (every unclaimed pending one with
    ``ignore_backoff``), oldest first."""
    t = alert_outbox.c
    query = sa.select(alert_outbox).where(
        t.state == "pending",
        t.notifier.in_(list(notifiers)),
        sa.or_(t.claimed_until.is_(None), t.claimed_until <= now),
    )
    if not ignore_backoff:
        query = query.where(t.next_attempt_at <= now)
    return [_entry(r) for r in conn.execute(query.order_by(t.id).limit(limit))]


def claim(conn: Connection, entry_id: int, now: dt.datetime, until: dt.datetime) -> bool:
    """Take ``entry_id`` for delivery until ``until``; False when another deliverer has it or it is done."""
    t = alert_outbox.c
    res = conn.execute(
        sa.update(alert_outbox)
        .where(t.id == entry_id, t.state == "pending", sa.or_(t.claimed_until.is_(None), t.claimed_until <= now))
        .values(claimed_until=until, attempts=t.attempts + 1)
    )
    return res.rowcount == 1


def mark_sent(conn: Connection, entry_id: int, now: dt.datetime) -> None:
    conn.execute(
        sa.update(alert_outbox)
        .where(alert_outbox.c.id == entry_id)
        .values(state="sent", sent_at=now, claimed_until=None, last_error=None)
    )


def mark_failed(conn: Connection, entry_id: int, error: str, next_attempt_at: dt.datetime, give_up: bool) -> None:
    conn.execute(
        sa.update(alert_outbox)
        .where(alert_outbox.c.id == entry_id)
        .values(
            state="failed" if give_up else "pending",
            next_attempt_at=next_attempt_at,
            claimed_until=None,
            last_error=error[:MAX_ERROR_CHARS],
        )
    )


def entries(conn: Connection, scan_id: int | None = None) -> list[OutboxEntry]:
    query = sa.select(alert_outbox).order_by(alert_outbox.c.id)
    if scan_id is not None:
        query = query.where(alert_outbox.c.scan_id == scan_id)
    return [_entry(r) for r in conn.execute(query)]


def next_due(conn: Connection, notifiers: Sequence[str]) -> dt.datetime | None:
    """When the earliest pending entry of ``notifiers`` may be tried (its backoff or claim, whichever is later)."""
    t = alert_outbox.c
    rows = conn.execute(
        sa.select(t.next_attempt_at, t.claimed_until).where(t.state == "pending", t.notifier.in_(list(notifiers)))
    ).all()
    times = [max(n, c) if c is not None else n for n, c in rows]
    return min(times) if times else None


def state_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(alert_outbox.c.state, sa.func.count()).group_by(alert_outbox.c.state))
    return {state: int(n) for state, n in rows}


# ---------------------------------------------------------------- leases


def _serialise(conn: Connection, url: str) -> None:
    if conn.execute(sa.update(store_lock).values(counter=store_lock.c.counter + 1)).rowcount != 1:
        raise ParityError(f"store {url} is not initialised: run migrate() first")


def acquire(
    conn: Connection,
    url: str,
    environments: Sequence[str],
    holder: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    *,
    job_environment: str | None = None,
    due_at: dt.datetime | None = None,
) -> tuple[LeaseResult, dict[str, dt.datetime | None]]:
    """Lease every environment of ``environments`` to ``holder``, or none.

    ``busy``: another holder's lease has not expired. ``done``: ``job_environment``'s last watched scan started
    at or after ``due_at`` (another watcher ran this slot). ``acquired``: every lease is ``holder``'s until
    ``now + ttl`` and their ``last_started_at`` is ``now``. Also returns the previous ``last_started_at`` values
    (to put back if the scan is abandoned).
    """
    _serialise(conn, url)
    envs = sorted(set(environments))
    rows = {r.environment: r for r in conn.execute(sa.select(watch_leases).where(watch_leases.c.environment.in_(envs)))}
    previous = {e: (rows[e].last_started_at if e in rows else None) for e in envs}
    for r in rows.values():
        if r.holder is not None and r.holder != holder and r.expires_at is not None and r.expires_at > now:
            return "busy", previous
    if job_environment is not None and due_at is not None:
        last = previous.get(job_environment)
        if last is not None and last >= due_at:
            return "done", previous
    until = now + ttl
    for e in envs:
        values = {"holder": holder, "expires_at": until, "last_started_at": now}
        if e in rows:
            conn.execute(sa.update(watch_leases).where(watch_leases.c.environment == e).values(**values))
        else:
            conn.execute(watch_leases.insert().values(environment=e, **values))
    return "acquired", previous


def renew(conn: Connection, environments: Sequence[str], holder: str, until: dt.datetime) -> bool:
    """Extend ``holder``'s leases; False if any of them is no longer ``holder``'s."""
    envs = sorted(set(environments))
    res = conn.execute(
        sa.update(watch_leases)
        .where(watch_leases.c.environment.in_(envs), watch_leases.c.holder == holder)
        .values(expires_at=until)
    )
    return res.rowcount == len(envs)


def release(
    conn: Connection,
    environments: Sequence[str],
    holder: str,
    restore: Mapping[str, dt.datetime | None] | None = None,
) -> None:
    """Give ``holder``'s leases back; with ``restore``, put back each ``last_started_at`` (an abandoned scan)."""
    for e in sorted(set(environments)):
        values: dict[str, Any] = {"holder": None, "expires_at": None}
        if restore is not None and e in restore:
            values["last_started_at"] = restore[e]
        conn.execute(
            sa.update(watch_leases)
            .where(watch_leases.c.environment == e, watch_leases.c.holder == holder)
            .values(**values)
        )


def last_started(conn: Connection) -> dict[str, dt.datetime]:
    rows = conn.execute(sa.select(watch_leases.c.environment, watch_leases.c.last_started_at))
    return {e: t for e, t in rows if t is not None}


# ---------------------------------------------------------------- failures


def record_failure(
    conn: Connection,
    environment: str,
    environments: Sequence[str],
    started: dt.datetime,
    finished: dt.datetime,
    error: str,
) -> int:
    line = " ".join(error.split())[:MAX_ERROR_CHARS] or "unknown error"
    return int(
        conn.execute(
            scan_failures.insert()
            .values(
                environment=environment,
                environments=",".join(environments),
                started_at=started,
                finished_at=finished,
                error=line,
            )
            .returning(scan_failures.c.id)
        ).scalar_one()
    )


def failures(conn: Connection, environment: str | None = None, limit: int = 50) -> list[ScanFailure]:
    query = sa.select(scan_failures).order_by(scan_failures.c.id.desc()).limit(limit)
    if environment is not None:
        query = query.where(scan_failures.c.environment == environment)
    return [
        ScanFailure(r.id, r.environment, tuple(e for e in r.environments.split(",") if e), r.started_at,
                    r.finished_at, r.error)
        for r in conn.execute(query)
    ]  # fmt: skip


def failure_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(scan_failures.c.environment, sa.func.count()).group_by(scan_failures.c.environment))
    return {e: int(n) for e, n in rows}


class WatchStoreMethods:
    """The :class:`~parity.store.Store` methods for watch mode and alerts (mixed into Store)."""

    url: str

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    # outbox

    def alerts_due(self, notifiers: Sequence[str], *, ignore_backoff: bool = False) -> list[OutboxEntry]:
        """Pending alerts of ``notifiers`` to deliver now (every unclaimed one with ``ignore_backoff``: start-up)."""
        with self._read() as conn:
            return due(conn, _now(), notifiers, ignore_backoff=ignore_backoff)

    def claim_alert(self, entry_id: int, hold: dt.timedelta) -> bool:
        now = _now()
        with self._write() as conn:
            return claim(conn, entry_id, now, now + hold)

    def alert_sent(self, entry_id: int) -> None:
        with self._write() as conn:
            mark_sent(conn, entry_id, _now())

    def alert_failed(self, entry_id: int, error: str, retry_at: dt.datetime, give_up: bool) -> None:
        with self._write() as conn:
            mark_failed(conn, entry_id, error, retry_at, give_up)

    def alerts(self, scan_id: int | None = None) -> list[OutboxEntry]:
        """Every outbox entry (of one scan), oldest first."""
        with self._read() as conn:
            return entries(conn, scan_id)

    def next_alert_due(self, notifiers: Sequence[str]) -> dt.datetime | None:
        with self._read() as conn:
            return next_due(conn, notifiers)

    def alert_counts(self) -> dict[str, int]:
        with self._read() as conn:
            return state_counts(conn)

    # leases

    def acquire_environments(
        self,
        environments: Sequence[str],
        holder: str,
        ttl: dt.timedelta,
        *,
        job_environment: str | None = None,
        due_at: dt.datetime | None = None,
    ) -> tuple[LeaseResult, dict[str, dt.datetime | None]]:
        """Lease ``environments`` to ``holder`` (all or none); see :func:`acquire`."""
        with self._write() as conn:
            return acquire(
                conn, self.url, environments, holder, _now(), ttl, job_environment=job_environment, due_at=due_at
            )

    def renew_environments(self, environments: Sequence[str], holder: str, ttl: dt.timedelta) -> bool:
        with self._write() as conn:
            return renew(conn, environments, holder, _now() + ttl)

    def release_environments(
        self, environments: Sequence[str], holder: str, restore: Mapping[str, dt.datetime | None] | None = None
    ) -> None:
        with self._write() as conn:
            release(conn, environments, holder, restore)

    def watch_last_started(self) -> dict[str, dt.datetime]:
        """Per environment, when its last watched scan started (any watcher)."""
        with self._read() as conn:
            return last_started(conn)

    # failures

    def record_scan_failure(
        self, environment: str, environments: Sequence[str], started: dt.datetime, finished: dt.datetime, error: str
    ) -> int:
        with self._write() as conn:
            return record_failure(conn, environment, environments, started, finished, error)

    def scan_failures(self, environment: str | None = None, limit: int = 50) -> list[ScanFailure]:
        """Failed watched scans, newest first."""
        with self._read() as conn:
            return failures(conn, environment, limit)

    def scan_failure_counts(self) -> dict[str, int]:
        with self._read() as conn:
            return failure_counts(conn)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
