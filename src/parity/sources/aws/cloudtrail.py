"""CloudTrail's event history: who created or modified a resource (``cloudtrail:LookupEvents``, a read).

Not a lister (it yields no resources): :mod:`parity.attribution` calls :func:`lookup_changes` for the few
resources a finding names, through a guarded client (:mod:`.session`: the read-only guard applies; ``Lookup*``
is a read). One call asks for one resource name (CloudTrail takes a single lookup attribute per call) over a
bounded window and returns at most :data:`MAX_RESULTS` events, newest first; read-only events are dropped
here, so what is left is what created or changed the resource. Read events (a monitor polling
``GetQueueAttributes``) can fill whole pages, so the next page is read while no wanted write was found, at
most :data:`MAX_PAGES` pages and never past the caller's budget; calls are paced at :data:`RATE` per second
per client (CloudTrail's limit for ``LookupEvents`` per account and region).

Only the fields attribution needs are kept: never ``requestParameters`` / ``responseElements`` (a
``CreateSecret`` or ``PutParameter`` event carries the secret value there). A malformed event is skipped,
never a crash.

moto (the test double) does not implement ``LookupEvents``: the tests use recorded responses through
``botocore.stub.Stubber`` on the same guarded client.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import botocore.parsers

from parity.sources.aws.failures import describe

ACTION = "cloudtrail:LookupEvents"
MAX_RESULTS = 50  # CloudTrail's maximum per page
MAX_PAGES = 4  # pages read for one name while only read events (or unwanted writes) came back
RATE = 2.0  # LookupEvents calls per second CloudTrail allows per account and region


@dataclass(frozen=True)
class TrailEvent:
    """One write management event about a resource, with the fields attribution needs."""

    event_id: str
    name: str
    time: dt.datetime
    principal: str  # userIdentity.arn (an AWS service's name for AWSService)
    identity_type: str  # IAMUser, AssumedRole, Root, AWSService, ...
    user: str  # Username of the event (user name or role session name)
    role: str  # sessionContext.sessionIssuer.arn for an assumed role
    source_ip: str
    user_agent: str
    source: str = ""  # eventSource, e.g. sqs.amazonaws.com
    role_name: str = ""  # sessionContext.sessionIssuer.userName: the role's name (never the session's)


class LookupFailed(Exception):
    """The lookup could not be made (denied, throttled past the retries, no trail history): a note, never fatal.
    Its text never holds what the response said beyond an AWS error code (:func:`.failures.describe`)."""


@dataclass
class Lookup:
    """What :func:`lookup_changes` found: write events newest first, and whether the budget cut it short."""

    events: list[TrailEvent] = field(default_factory=list)
    calls: int = 0
    cut_short: bool = False  # pages were left unread because the budget ran out


class Pacer:
    """At most ``rate`` calls per second per key (a client): waits before a call that would come too soon."""

    def __init__(
        self,
        rate: float = RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()

    def wait(self, key: object) -> None:
        with self._lock:
            last = self._last.get(id(key))
            now = self.clock()
            if last is not None and now - last < self.interval:
                self.sleep(self.interval - (now - last))
                now = self.clock()
            self._last[id(key)] = now


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _time(raw: dict[str, Any], body: dict[str, Any]) -> dt.datetime | None:
    when = raw.get("EventTime")
    if not isinstance(when, dt.datetime):
        try:
            when = dt.datetime.fromisoformat(str(body.get("eventTime") or "").replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def _event(raw: Any) -> TrailEvent | None:
    """The write event ``raw`` (a LookupEvents ``Events[]`` item) holds; None for a read or an unusable item."""
    raw = _dict(raw)
    try:
        body = _dict(json.loads(raw.get("CloudTrailEvent") or "{}"))
    except (ValueError, TypeError):
        body = {}
    if str(raw.get("ReadOnly", body.get("readOnly", "false"))).lower() == "true":
        return None
    when = _time(raw, body)
    if when is None:  # an event with no usable time cannot be ordered: it could never be "the latest"
        return None
    ident = _dict(body.get("userIdentity"))
    issuer = _dict(_dict(ident.get("sessionContext")).get("sessionIssuer"))
    kind = str(ident.get("type") or "")
    principal = str(ident.get("arn") or "")
    if not principal and kind == "AWSService":
        principal = str(ident.get("invokedBy") or "")
    return TrailEvent(
        event_id=str(raw.get("EventId") or body.get("eventID") or ""),
        name=str(raw.get("EventName") or body.get("eventName") or ""),
        time=when,
        principal=principal,
        identity_type=kind,
        user=str(raw.get("Username") or ident.get("userName") or ""),
        role=str(issuer.get("arn") or ""),
        source_ip=str(body.get("sourceIPAddress") or ""),
        user_agent=str(body.get("userAgent") or ""),
        source=str(raw.get("EventSource") or body.get("eventSource") or ""),
        role_name=str(issuer.get("userName") or "") if issuer.get("type", "Role") == "Role" else "",
    )


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def lookup_changes(
    client: Any,
    resource_name: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    take: Callable[[], bool] = lambda: True,
    enough: Callable[[list[TrailEvent]], bool] = bool,
    pacer: Pacer | None = None,
    max_pages: int = MAX_PAGES,
) -> Lookup:
    """Write events naming ``resource_name`` between ``start`` and ``end``, newest first.

    Pages are read while ``enough(events so far)`` is false, up to ``max_pages``; ``take()`` is asked before
    every call and a False stops the lookup (``cut_short``). Raises :class:`LookupFailed`.
    """
    out = Lookup()
    kwargs: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": resource_name}],
        "StartTime": _utc(start),
        "EndTime": _utc(end),
        "MaxResults": MAX_RESULTS,
    }
    token: str | None = None
    for _ in range(max_pages):
        if not take():
            out.cut_short = True
            break
        if pacer is not None:
            pacer.wait(client)
        try:
            got = client.lookup_events(**kwargs, **({"NextToken": token} if token else {}))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
                botocore.parsers.ResponseParserError) as e:  # fmt: skip
            # what botocore says may quote the response body: only its class, error code and status are shown
            raise LookupFailed(describe(e)) from None
        out.calls += 1
        raw = got.get("Events") if isinstance(got, dict) else None
        out.events += [e for e in (_event(r) for r in (raw if isinstance(raw, list) else [])) if e is not None]
        nxt = got.get("NextToken") if isinstance(got, dict) else None
        if not nxt or nxt == token or enough(out.events):
            break
        token = str(nxt)
    out.events.sort(key=lambda e: e.time, reverse=True)
    return out
