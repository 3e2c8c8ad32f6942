"""CloudTrail's event history: who created or modified a resource (``cloudtrail:LookupEvents``, a read).

Not a lister (it yields no resources): :mod:`parity.attribution` calls :func:`lookup_changes` for the few
resources a finding names, through a guarded client (:mod:`.session`: the read-only guard applies; ``Lookup*``
is a read). One call asks for one resource name (CloudTrail takes a single lookup attribute per call) over a
bounded window and returns at most :data:`MAX_RESULTS` events; read-only events are dropped here, so what is
left is what created or changed the resource.

moto (the test double) does not implement ``LookupEvents``: the tests use recorded responses through
``botocore.stub.Stubber`` on the same guarded client.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import botocore.exceptions
import botocore.parsers

from parity.sources.aws.failures import describe

ACTION = "cloudtrail:LookupEvents"
MAX_RESULTS = 50  # CloudTrail's maximum per page; one page per call


@dataclass(frozen=True)
class TrailEvent:
    """One write management event about a resource, with the fields attribution needs."""

    event_id: str
    name: str
    time: dt.datetime
    principal: str  # userIdentity.arn
    identity_type: str  # IAMUser, AssumedRole, Root, AWSService, ...
    user: str  # Username of the event (user name or role session name)
    role: str  # sessionContext.sessionIssuer.arn for an assumed role
    source_ip: str
    user_agent: str


class LookupFailed(Exception):
    """The lookup could not be made (denied, throttled past the retries, no trail history): a note, never fatal.
    Its text never holds what the response said beyond an AWS error code (:func:`.failures.describe`)."""


def _event(raw: dict[str, Any]) -> TrailEvent | None:
    try:
        body = json.loads(raw.get("CloudTrailEvent") or "{}")
    except ValueError:
        body = {}
    if str(raw.get("ReadOnly", body.get("readOnly", "false"))).lower() == "true":
        return None
    ident = body.get("userIdentity") or {}
    issuer = ((ident.get("sessionContext") or {}).get("sessionIssuer")) or {}
    when = raw.get("EventTime")
    if not isinstance(when, dt.datetime):
        when = dt.datetime.fromisoformat(str(body.get("eventTime", "1970-01-01T00:00:00Z")).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return TrailEvent(
        event_id=str(raw.get("EventId") or body.get("eventID") or ""),
        name=str(raw.get("EventName") or body.get("eventName") or ""),
        time=when.astimezone(dt.UTC),
        principal=str(ident.get("arn") or ""),
        identity_type=str(ident.get("type") or ""),
        user=str(raw.get("Username") or ident.get("userName") or ""),
        role=str(issuer.get("arn") or ""),
        source_ip=str(body.get("sourceIPAddress") or ""),
        user_agent=str(body.get("userAgent") or ""),
    )


def lookup_changes(client: Any, resource_name: str, start: dt.datetime, end: dt.datetime) -> list[TrailEvent]:
    """Write events naming ``resource_name`` between ``start`` and ``end``, newest first (one API call)."""
    try:
        got = client.lookup_events(
            LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": resource_name}],
            StartTime=start,
            EndTime=end,
            MaxResults=MAX_RESULTS,
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
            botocore.parsers.ResponseParserError) as e:  # fmt: skip
        # what botocore says may quote the response body: only its class, error code and status are shown
        raise LookupFailed(describe(e)) from None
    events = [e for e in (_event(raw) for raw in got.get("Events", [])) if e is not None]
    events.sort(key=lambda e: e.time, reverse=True)
    return events
