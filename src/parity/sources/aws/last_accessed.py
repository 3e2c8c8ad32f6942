"""IAM service last-accessed details: when a principal last used any AWS service.

Not a lister: the permission analysis (:mod:`parity.permissions`) asks for the few principals holding an
elevated grant (at most :data:`MAX_PRINCIPALS` per scan). ``GenerateServiceLastAccessedDetails`` (the
principal's ARN) starts a report job and changes nothing (the read-only guard allows it by name), then
``GetServiceLastAccessedDetails`` is polled until the job is ``COMPLETED`` with a bounded number of
attempts and short sleeps. The answer is reduced to the latest ``LastAuthenticated`` over all services
(and which service): ``None`` when the principal used none in IAM's tracking period.

Any failure (denied, throttled past the retries, a ``FAILED`` job, still running after the last attempt)
raises :class:`LastAccessFailed`: the caller notes "last use unknown", never an error. Its text names the
failure (:func:`parity.sources.aws.failures.describe`: class, AWS error code, HTTP status), never text from
the response body.

moto (the test double) does not implement these calls: the tests use recorded responses through
``botocore.stub.Stubber`` on a guarded client.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ACTIONS = ("iam:GenerateServiceLastAccessedDetails", "iam:GetServiceLastAccessedDetails")
MAX_PRINCIPALS = 20  # per scan: one report job each
ATTEMPTS = 10  # polls of one job
SLEEP = 0.5  # seconds between polls
MAX_PAGES = 20  # of one job's answer (Marker / IsTruncated)


@dataclass(frozen=True)
class LastAccess:
    """The latest use of any service by a principal (``when`` None: no use in the tracking period)."""

    when: dt.datetime | None
    service: str = ""
    entity: str = ""  # the principal's ARN


class LastAccessFailed(Exception):
    """The details could not be read: last use unknown (a note, never fatal)."""


def last_accessed(
    client: Any,
    arn: str,
    *,
    attempts: int = ATTEMPTS,
    sleep: float = SLEEP,
    sleeper: Callable[[float], None] = time.sleep,
) -> LastAccess:
    """When ``arn`` (a user, role or group) last used any service, through a guarded IAM ``client``."""
    # botocore here, not at the top: the permission analysis imports this module for every scan, with an
    # AWS source or not, and a scan without one must not load it
    import botocore.exceptions
    import botocore.parsers

    from parity.sources.aws.failures import describe

    try:
        job = client.generate_service_last_accessed_details(Arn=arn)["JobId"]
        got: Mapping[str, Any] = {}
        for i in range(attempts):
            got = client.get_service_last_accessed_details(JobId=job)
            status = got.get("JobStatus")
            if status == "COMPLETED":
                break
            if status == "FAILED":
                reason = (got.get("Error") or {}).get("Message") or "the report job failed"
                raise LastAccessFailed(f"service last-accessed report failed: {reason}")
            if i + 1 < attempts:
                sleeper(sleep)
        else:
            raise LastAccessFailed(f"service last-accessed report not ready after {attempts} attempt(s)")
        services: list[Mapping[str, Any]] = list(got.get("ServicesLastAccessed") or [])
        pages = 1
        while got.get("IsTruncated") and got.get("Marker") and pages < MAX_PAGES:
            got = client.get_service_last_accessed_details(JobId=job, Marker=got["Marker"])
            services += got.get("ServicesLastAccessed") or []
            pages += 1
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
            botocore.parsers.ResponseParserError) as e:  # fmt: skip
        # what botocore says may quote the response body: only its class, error code and status are shown
        raise LastAccessFailed(describe(e)) from None
    return latest(services, arn)


def latest(services: Sequence[Mapping[str, Any]], arn: str = "") -> LastAccess:
    """The latest ``LastAuthenticated`` of ``ServicesLastAccessed`` entries (UTC)."""
    best: tuple[dt.datetime, str, str] | None = None
    for s in services:
        when = s.get("LastAuthenticated")
        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        if not isinstance(when, dt.datetime):
            continue
        when = (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
        if best is None or when > best[0]:
            best = (when, str(s.get("ServiceNamespace") or ""), str(s.get("LastAuthenticatedEntity") or ""))
    if best is None:
        return LastAccess(None, "", arn)
    return LastAccess(best[0], best[1], best[2] or arn)


# (environment, principal ARN) -> LastAccess; raises LastAccessFailed
Lookup = Callable[[str, str], LastAccess]


def session_lookup(sources: Mapping[str, Sequence[Any]]) -> Lookup:
    """A :data:`Lookup` through guarded IAM clients: ``sources`` maps an environment to its ``aws`` source
    specs (:class:`parity.config.AwsSource`); the one whose account owns the ARN is used (else the first).
    Sessions are made on first use, one per source."""
    from parity.errors import ParityError
    from parity.sources.aws.session import AwsSession, Target

    sessions: dict[tuple[str, int], AwsSession] = {}

    def lookup(env: str, arn: str) -> LastAccess:
        specs = list(sources.get(env, ()))
        if not specs:
            raise LastAccessFailed(f"no aws source in {env}")
        account = arn.split(":")[4] if arn.count(":") >= 5 else ""
        index = next((i for i, s in enumerate(specs) if account and account in str(s.role_arn or "")), 0)
        spec = specs[index]
        key = (env, index)
        try:
            if key not in sessions:
                target = Target(profile=spec.profile, role_arn=spec.role_arn, external_id=spec.external_id,
                                endpoint_url=spec.endpoint_url)  # fmt: skip
                sessions[key] = AwsSession(target)
            session = sessions[key]
            return last_accessed(session.client("iam", session.region()), arn)
        except ParityError as e:
            raise LastAccessFailed(str(e)[:300]) from None

    return lookup
