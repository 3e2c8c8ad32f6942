"""Delivering queued alerts from the store's outbox: after the scan committed, and first thing on start-up.

Each entry is *claimed* before it is sent (so two watchers on one store never send the same alert), marked
``sent`` right after the receiver accepted it, and on failure retried later with exponential backoff
(``backoff`` doubled per attempt, at most an hour) until the notifier's ``max_attempts``, then ``failed``.
Entries of one notifier go out in order: after a failure its later entries wait for the next round. A crash
between the receiver's acceptance and the ``sent`` mark is the only way an alert goes twice; the
``X-Parity-Delivery`` header (scan id and notifier) lets a receiver drop such a repeat.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from parity.alerts.notifiers import DeliveryError, describe, send
from parity.alerts.settings import AlertConfig
from parity.store import Store

MAX_BACKOFF_S = 3600.0
Log = Callable[[str], None]


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0  # attempts that failed and will be retried
    gave_up: int = 0  # entries that reached max_attempts

    def add(self, other: DeliveryResult) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.gave_up += other.gave_up


def retry_delay(backoff: float, attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: ``backoff`` doubled per failed attempt, at most an hour."""
    return float(min(backoff * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def deliver(
    store: Store,
    notifiers: Sequence[AlertConfig],
    *,
    ignore_backoff: bool = False,
    stop: threading.Event | None = None,
    log: Log | None = None,
    on_result: Callable[[str, str], None] | None = None,
) -> DeliveryResult:
    """One round over the due entries, oldest first; per notifier in order (an entry waiting for its retry holds
    back the later ones). ``on_result(notifier id, "sent"|"failed"|"gave_up")`` after each attempt."""
    by_id = {n.id: n for n in notifiers}
    result = DeliveryResult()
    if not by_id:
        return result
    blocked: set[str] = set()
    now = dt.datetime.now(dt.UTC)
    for entry in store.alerts_due(list(by_id), ignore_backoff=True):
        if stop is not None and stop.is_set():
            break
        n = by_id[entry.notifier]
        if entry.notifier in blocked:
            continue
        if not ignore_backoff and entry.next_attempt_at > now:
            blocked.add(entry.notifier)  # an older entry waits for its retry: later ones wait behind it
            continue
        if not store.claim_alert(entry.id, dt.timedelta(seconds=n.timeout * 3 + 30)):
            continue  # another deliverer has it
        try:
            send(n, entry.payload, delivery_id=f"{entry.scan_id}.{entry.notifier}")
        except Exception as e:  # DeliveryError, or a bug: either way the entry stays queued
            # stored in alert_outbox.last_error and logged: a DeliveryError's text is safe by construction; any
            # other exception is named by its class only (its text may quote the Slack URL or a header)
            why = str(e) if isinstance(e, DeliveryError) else f"{type(e).__name__} (unexpected)"
            error = f"{describe(n)}: {why}"
            attempts = entry.attempts + 1
            give_up = attempts >= n.max_attempts
            retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=retry_delay(n.backoff, attempts))
            store.alert_failed(entry.id, error, retry_at, give_up)
            blocked.add(entry.notifier)
            outcome = "gave_up" if give_up else "failed"
            if give_up:
                result.gave_up += 1
            else:
                result.failed += 1
            if log:
                then = "giving up" if give_up else f"retry at {retry_at:%H:%M:%S}"
                log(f"alert of scan {entry.scan_id}: attempt {attempts} failed: {error} ({then})")
        else:
            store.alert_sent(entry.id)
            result.sent += 1
            outcome = "sent"
            if log:
                log(f"alert of scan {entry.scan_id} sent to {n.id}")
        if on_result:
            on_result(n.id, outcome)
    return result


def drain(
    store: Store,
    notifiers: Sequence[AlertConfig],
    *,
    budget_s: float = 10.0,
    log: Log | None = None,
) -> DeliveryResult:
    """Deliver every pending entry (older first), retrying within ``budget_s`` seconds: for ``parity scan``.

    What is still unsent afterwards stays queued for the next ``parity scan`` or ``parity watch``.
    """
    total = deliver(store, notifiers, ignore_backoff=True, log=log)
    deadline = time.monotonic() + budget_s
    ids = [n.id for n in notifiers]
    while True:
        nxt = store.next_alert_due(ids)
        if nxt is None:
            break
        wait = (nxt - dt.datetime.now(dt.UTC)).total_seconds()
        if time.monotonic() + max(wait, 0) > deadline:
            break
        time.sleep(max(wait, 0))
        total.add(deliver(store, notifiers, log=log))
    return total
