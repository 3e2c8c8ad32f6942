"""The finding lifecycle rules, as pure functions (no I/O): one place for ``record_scan`` and ``annotate``.

A stored finding has a lifecycle *state*: ``new`` (first scan that saw it), ``open`` (seen again), ``recurring``
(seen again after it was resolved) or ``resolved``. The *status* shown to users is the state, except that an
unresolved finding with an acceptance that has not expired shows ``accepted``. Acceptance is derived when read,
never stored as state, so an acceptance expires on its date even if no scan runs in between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from parity.model import Coverage, Snapshot, Status

STATUSES: tuple[str, ...] = ("new", "open", "accepted", "resolved", "recurring")


@dataclass(frozen=True)
class StoredState:
    """A finding's lifecycle as the store last recorded it."""

    state: str  # new, open, recurring, resolved
    first_seen: dt.datetime
    last_seen: dt.datetime
    resolved_at: dt.datetime | None


@dataclass(frozen=True)
class Acceptance:
    owner: str
    reason: str
    expires: dt.date
    created_at: dt.datetime


def next_state(stored: StoredState | None) -> Status:
    """The state a finding takes when a scan sees it."""
    if stored is None:
        return "new"
    if stored.state == "resolved":
        return "recurring"
    return "open"


def shown_status(state: str, acceptances: Sequence[Acceptance], today: dt.date) -> tuple[Status, tuple[str, ...]]:
    """The status users see for ``state`` given the finding's acceptances, and the notes that explain it.

    The latest acceptance is the one in force (``acceptances`` in the order they were recorded): accepting again
    replaces the earlier decision, so a mistaken expiry (9999-12-31 for 2027-12-31) or owner can be corrected,
    and an acceptance can be shortened. When it has expired the finding is back, whatever older ones said.
    """
    if state == "resolved" or not acceptances:
        return _status(state), ()
    a = max(enumerate(acceptances), key=lambda p: (p[1].created_at, p[0]))[1]
    if a.expires >= today:
        return "accepted", (f"accepted by {a.owner} until {a.expires.isoformat()}: {a.reason}",)
    return _status(state), (f"acceptance by {a.owner} expired on {a.expires.isoformat()}",)


def _status(state: str) -> Status:
    if state not in ("new", "open", "recurring", "resolved"):
        raise ValueError(f"unknown finding state {state!r}")
    return state  # type: ignore[return-value]


def may_resolve(
    environments: Iterable[str], type_: str, scanned: frozenset[str], coverage: Mapping[str, Sequence[Coverage]]
) -> bool:
    """Whether a scan that did not report a finding proves it gone.

    Only when the scan covered every environment the finding names, and no snapshot of those environments has a
    coverage gap that could hide resources of the finding's type (a failed listing is never "deleted").
    """
    envs = tuple(environments)
    if not envs or not set(envs) <= scanned:
        return False
    return all(c.covers_type(type_) for env in envs for c in coverage.get(env, ()))


def coverage_by_environment(snapshots: Iterable[Snapshot]) -> dict[str, list[Coverage]]:
    out: dict[str, list[Coverage]] = {}
    for s in snapshots:
        out.setdefault(s.environment, []).append(s.coverage)
    return out
