"""The ``aws`` source: list every selected type in every region concurrently, record what failed.

A listing that fails (access denied, a region that errors, throttling past the retries, an answer
that is not the service's: an HTML page, bad XML, a shape parity did not expect) never raises and never
reads as "nothing there": it becomes a coverage gap for each type its lister yields, so no ``missing`` /
``only_in`` finding is drawn from it and ``--strict`` exits 3. A gap's reason names the exception class
and a short reason (:func:`parity.sources.aws.failures.describe`), never text from the response body.
Credentials that do not work at all are an error (exit 1): nothing could be checked. Only a refused write
(:class:`~parity.sources.aws.guard.ReadOnlyViolation`, a bug in parity) stops the scan.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from parity.config import AwsSource
from parity.errors import ParityError
from parity.model import Coverage, CoverageGap, Resource, Snapshot
from parity.registry import CollectContext, register_source
from parity.sources.aws.guard import ReadOnlyViolation
from parity.sources.aws.spec import Fetch, Lister, listers

# boto3 and botocore (the session, the failure descriptions) are imported when an account is listed: every
# command that collects imports this module (parity.registry loads every source), with an AWS source or not.
if TYPE_CHECKING:
    from parity.sources.aws.session import AwsSession

DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
     "AuthorizationError", "AuthorizationErrorException", "InvalidClientTokenId", "OptInRequired"}
)  # fmt: skip


def selected_listers(spec: AwsSource, skip_types: frozenset[str] = frozenset()) -> list[tuple[Lister, set[str]]]:
    """Listers with at least one selected type, and those types (excluded types are never listed)."""
    sel = spec.resource_types
    out = []
    for lister in listers().values():
        types = {
            t
            for t in lister.tf_types
            if any(fnmatch.fnmatchcase(t, g) for g in sel.include)
            and not any(fnmatch.fnmatchcase(t, g) for g in sel.exclude)
            and t not in skip_types
        }
        if types:
            out.append((lister, types))
    return out


def _regions(spec: AwsSource, session: AwsSession) -> tuple[str, ...]:
    from parity.sources.aws.failures import describe

    if spec.regions == "all":
        ec2 = session.client("ec2", session.region())
        try:
            return tuple(sorted(str(r["RegionName"]) for r in ec2.describe_regions()["Regions"]))
        except ReadOnlyViolation:
            raise
        except Exception as e:  # whatever the answer was, no region list: say why without echoing it
            raise ParityError(f"cannot list the account's regions: {describe(e)}") from None
    if spec.regions:
        return tuple(spec.regions)
    env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return (env or session.region(),)


def _gap_for(e: Exception, lister: Lister, region: str, types: set[str]) -> list[CoverageGap]:
    """A gap for each of ``types``; the reason never holds text from the response (see failures.describe)."""
    import botocore.exceptions

    from parity.sources.aws.failures import describe

    kind: Literal["denied", "failed"] = "failed"
    if isinstance(e, botocore.exceptions.ClientError) and (e.response.get("Error") or {}).get("Code") in DENIED_CODES:
        kind = "denied"
    scope = f"{lister.name}@{'global' if lister.global_ else region}"
    reason = describe(e)
    return [CoverageGap(scope=scope, reason=reason, type=t, kind=kind) for t in sorted(types)]


@register_source("aws", "a live AWS account, listed read-only across regions")
def collect(spec: AwsSource, ctx: CollectContext) -> Sequence[Snapshot]:
    from parity.sources.aws.session import AwsSession, Target

    target = Target(
        profile=spec.profile,
        role_arn=spec.role_arn,
        external_id=spec.external_id,
        endpoint_url=spec.endpoint_url,
        max_workers=spec.max_workers,
    )
    session = AwsSession(target)
    account = session.identify()
    regions = _regions(spec, session)
    chosen = selected_listers(spec, ctx.skip_types)
    jobs: list[tuple[Lister, set[str], str]] = []
    for lister, types in chosen:
        for region in regions[:1] if lister.global_ else regions:
            jobs.append((lister, types, region))

    def run(job: tuple[Lister, set[str], str]) -> tuple[list[Resource], list[CoverageGap]]:
        lister, types, region = job
        fetch = Fetch(account, region, session.partition, ctx.redactor, session.client, regions)
        try:
            found = [r for r in lister.fetch(fetch) if r.type in types]
        except ReadOnlyViolation:
            raise  # a bug in parity, never a coverage gap
        except Exception as e:  # the unit of failure: whatever went wrong, these types were not checked here
            return [], _gap_for(e, lister, region, types)
        return found, []

    ctx.report(f"{ctx.environment}: listing {len(jobs)} AWS type/region combinations in {account}")
    resources: list[Resource] = []
    gaps: list[CoverageGap] = []
    done = 0
    with ThreadPoolExecutor(max_workers=min(spec.max_workers, max(1, len(jobs)))) as pool:
        for found, missed in pool.map(run, jobs):
            resources += found
            gaps += missed
            done += 1
            if done % 5 == 0 or done == len(jobs):
                ctx.report(f"{ctx.environment}: AWS {done}/{len(jobs)} listings, {len(resources)} resources")
    gapped = {g.type for g in gaps}
    listed = sorted({t for _, types in chosen for t in types} - gapped)
    # Two listings can meet the same object: keep one per (type, key, id).
    unique = {(r.type, r.key, r.id): r for r in resources}
    return [
        Snapshot(
            environment=ctx.environment,
            source=ctx.source_name,
            kind="aws",
            role=ctx.role,
            collected_at=datetime.now(UTC),
            resources=tuple(unique[k] for k in sorted(unique)),
            coverage=Coverage(listed=tuple(listed), gaps=tuple(gaps)),
            facts={"accounts": (account,), "regions": regions},
        )
    ]
