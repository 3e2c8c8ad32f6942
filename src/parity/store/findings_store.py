"""Findings in and out of the store: lifecycle bookkeeping per scan, acceptances, the current-state view.

Rules live in :mod:`parity.store.lifecycle`; this module only reads and writes rows. History grows with change:
a scan updates each seen finding's row in place and adds ``finding_events`` rows only for transitions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from parity.errors import UsageError
from parity.model import SEVERITIES, Coverage, Finding
from parity.serialize import canonical_json, finding_from_dict, finding_to_dict
from parity.store.inventory import chunks
from parity.store.lifecycle import (
    STATUSES,
    Acceptance,
    StoredState,
    may_resolve,
    next_state,
    shown_status,
)
from parity.store.tables import acceptances, finding_environments, finding_events, findings

MIN_PREFIX = 6
MAX_OWNER = 255  # acceptances.owner
# C0 and C1 controls and DEL: no name or reason needs one, and they act on terminals and break XML reports.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

_STATE_COLUMNS = (findings.c.state, findings.c.first_seen, findings.c.last_seen, findings.c.resolved_at)


def _stored(row: Any) -> StoredState:
    return StoredState(row.state, row.first_seen, row.last_seen, row.resolved_at)


def load_states(conn: Connection, ids: Sequence[str]) -> dict[str, StoredState]:
    out: dict[str, StoredState] = {}
    for part in chunks(ids):
        for row in conn.execute(sa.select(findings.c.id, *_STATE_COLUMNS).where(findings.c.id.in_(part))):
            out[row.id] = _stored(row)
    return out


def load_acceptances(conn: Connection, ids: Sequence[str]) -> dict[str, list[Acceptance]]:
    out: dict[str, list[Acceptance]] = {}
    for part in chunks(ids):
        rows = conn.execute(
            sa.select(
                acceptances.c.finding_id,
                acceptances.c.owner,
                acceptances.c.reason,
                acceptances.c.expires,
                acceptances.c.created_at,
            )
            .where(acceptances.c.finding_id.in_(part))
            .order_by(acceptances.c.id)  # recording order: the latest acceptance is the one in force
        )
        for fid, owner, reason, expires, created_at in rows:
            out.setdefault(fid, []).append(Acceptance(owner, reason, expires, created_at))
    return out


def _shown(
    f: Finding,
    state: str,
    first_seen: dt.datetime | None,
    last_seen: dt.datetime | None,
    acc: Sequence[Acceptance],
    today: dt.date,
) -> Finding:
    status, notes = shown_status(state, acc, today)
    return dataclasses.replace(f, status=status, first_seen=first_seen, last_seen=last_seen, notes=(*f.notes, *notes))


def annotate(conn: Connection, current: Sequence[Finding], today: dt.date) -> list[Finding]:
    """The statuses :func:`record` would give ``current``, without writing anything."""
    ids = sorted({f.id for f in current})
    states, acc = load_states(conn, ids), load_acceptances(conn, ids)
    out: list[Finding] = []
    for f in current:
        stored = states.get(f.id)
        first = stored.first_seen if stored else None
        last = stored.last_seen if stored else None
        out.append(_shown(f, next_state(stored), first, last, acc.get(f.id, ()), today))
    return out


def _payload(f: Finding) -> str:
    return canonical_json(finding_to_dict(f)).decode()


def record(
    conn: Connection,
    scan_id: int,
    current: Sequence[Finding],
    scanned: frozenset[str],
    coverage: Mapping[str, Sequence[Coverage]],
    at: dt.datetime,
    today: dt.date,
) -> tuple[list[Finding], list[Finding], dict[str, int]]:
    """Apply one scan's findings: returns (current findings with lifecycle set, resolved findings, status counts)."""
    unique: dict[str, Finding] = {}
    for f in current:
        unique.setdefault(f.id, f)
    ids = sorted(unique)
    states, acc = load_states(conn, ids), load_acceptances(conn, ids)

    shown: list[Finding] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for fid, f in unique.items():
        stored = states.get(fid)
        state = next_state(stored)
        first_seen = stored.first_seen if stored else at
        kept = dataclasses.replace(f, status=state, first_seen=first_seen, last_seen=at)
        shown.append(_shown(f, state, first_seen, at, acc.get(fid, ()), today))
        row = {"payload": _payload(kept), "state": state, "last_seen": at, "last_scan": scan_id}
        if stored is None:
            inserts.append({"id": fid, "kind": f.kind, "severity": f.severity, "first_seen": at, **row})
        else:
            updates.append({"b_id": fid, "b_severity": f.severity, **{f"b_{k}": v for k, v in row.items()}})
        if state != "open":
            events.append({"finding_id": fid, "scan_id": scan_id, "event": state, "at": at})

    if inserts:
        conn.execute(findings.insert(), [{"resolved_at": None, **r} for r in inserts])
        conn.execute(
            finding_environments.insert(),
            [
                {"finding_id": r["id"], "environment": e}
                for r in inserts
                for e in sorted(set(unique[r["id"]].environments))
            ],
        )
    if updates:
        conn.execute(
            sa.update(findings)
            .where(findings.c.id == sa.bindparam("b_id"))
            .values(
                severity=sa.bindparam("b_severity"),
                payload=sa.bindparam("b_payload"),
                state=sa.bindparam("b_state"),
                last_seen=sa.bindparam("b_last_seen"),
                last_scan=sa.bindparam("b_last_scan"),
                resolved_at=None,
            ),
            updates,
        )

    resolved = _resolve(conn, scan_id, set(unique), scanned, coverage, at, events)
    if events:
        conn.execute(finding_events.insert(), events)
    counts: dict[str, int] = dict(Counter[str](f.status for f in shown))
    if resolved:
        counts["resolved"] = len(resolved)
    return shown, resolved, counts


def _resolve(
    conn: Connection,
    scan_id: int,
    seen: set[str],
    scanned: frozenset[str],
    coverage: Mapping[str, Sequence[Coverage]],
    at: dt.datetime,
    events: list[dict[str, Any]],
) -> list[Finding]:
    """Mark unresolved findings this scan proves gone as resolved; returns them."""
    rows = conn.execute(
        sa.select(findings.c.id, findings.c.payload, findings.c.first_seen, findings.c.last_seen).where(
            findings.c.state != "resolved"
        )
    ).all()
    resolved: list[Finding] = []
    for fid, payload, first_seen, last_seen in rows:
        if fid in seen:
            continue
        f = finding_from_dict(orjson.loads(payload))
        if may_resolve(f.environments, f.type, scanned, coverage):
            resolved.append(dataclasses.replace(f, status="resolved", first_seen=first_seen, last_seen=last_seen))
    ids = [f.id for f in resolved]
    for part in chunks(ids):
        conn.execute(sa.update(findings).where(findings.c.id.in_(part)).values(state="resolved", resolved_at=at))
    events.extend({"finding_id": fid, "scan_id": scan_id, "event": "resolved", "at": at} for fid in ids)
    return resolved


def _severity_rank(f: Finding) -> int:
    return SEVERITIES.index(f.severity) if f.severity in SEVERITIES else len(SEVERITIES)


def read(conn: Connection, status: str | None, environment: str | None, today: dt.date) -> list[Finding]:
    """The current state of every stored finding, most severe first; optionally one status or environment."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"unknown finding status {status!r}: expected one of {', '.join(STATUSES)}")
    query = sa.select(findings.c.id, findings.c.payload, *_STATE_COLUMNS)
    if environment is not None:
        query = query.where(
            findings.c.id.in_(
                sa.select(finding_environments.c.finding_id).where(finding_environments.c.environment == environment)
            )
        )
    rows = conn.execute(query).all()
    acc = load_acceptances(conn, [r.id for r in rows])
    out: list[Finding] = []
    for row in rows:
        f = finding_from_dict(orjson.loads(row.payload))
        shown = _shown(f, row.state, row.first_seen, row.last_seen, acc.get(row.id, ()), today)
        if status is None or shown.status == status:
            out.append(shown)
    out.sort(key=lambda f: (_severity_rank(f), f.kind, f.type, f.key, f.id))
    return out


def resolve_id(conn: Connection, given: str) -> str:
    """The one stored finding id that ``given`` (a full id or a prefix of at least 6 characters) names."""
    prefix = given.strip().lower()
    if len(prefix) < MIN_PREFIX or any(c not in string.hexdigits for c in prefix):
        raise UsageError(f"finding id {given!r}: give the id or at least its first {MIN_PREFIX} hex characters")
    matches = (
        conn.execute(sa.select(findings.c.id).where(findings.c.id.like(prefix + "%")).order_by(findings.c.id).limit(6))
        .scalars()
        .all()
    )
    if not matches:
        raise UsageError(
            f"no finding with id {prefix!r} in the store (findings are stored by `parity scan`; "
            "`parity history --findings` lists them)"
        )
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise UsageError(f"finding id {prefix!r} is ambiguous: it matches {shown}")
    return str(matches[0])


def accept(
    conn: Connection, given: str, owner: str, reason: str, expires: dt.date, now: dt.datetime, today: dt.date
) -> Finding:
    """Record an acceptance of one finding and return the finding as it now shows."""
    owner, reason = owner.strip(), reason.strip()
    if not owner:
        raise UsageError("an acceptance needs an owner")
    if not reason:
        raise UsageError("an acceptance needs a reason")
    # The same limits on every backend (PostgreSQL refused a long owner with a bare "value too long", SQLite
    # kept it; PostgreSQL cannot store NUL at all), said in the user's terms.
    if len(owner) > MAX_OWNER:
        raise UsageError(f"the owner is longer than {MAX_OWNER} characters")
    if _CONTROL.search(owner):
        raise UsageError(f"the owner {owner!r} holds a control character")
    if _CONTROL.search(reason.replace("\n", " ").replace("\t", " ")):
        raise UsageError(f"the reason {reason!r} holds a control character")
    if expires < today:
        raise UsageError(f"expiry {expires.isoformat()} is in the past")
    fid = resolve_id(conn, given)
    conn.execute(
        acceptances.insert(),
        [{"finding_id": fid, "owner": owner, "reason": reason, "expires": expires, "created_at": now}],
    )
    row = conn.execute(sa.select(findings.c.payload, *_STATE_COLUMNS).where(findings.c.id == fid)).one()
    f = finding_from_dict(orjson.loads(row.payload))
    return _shown(f, row.state, row.first_seen, row.last_seen, load_acceptances(conn, [fid]).get(fid, ()), today)
