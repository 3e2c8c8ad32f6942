"""Attribution: who changed a drifted AWS resource, and whether that was the environment's deploy path.

For ``changed``, ``unmanaged`` and ``elevated_grant`` findings about a resource a live ``aws`` source listed,
the CloudTrail event history of that account (:func:`parity.sources.aws.cloudtrail.lookup_changes`) is asked
for the write events naming the resource (its ARN, then its name: events of another service's same-named
resource are dropped) within ``attribution.lookback``, in the region CloudTrail records them in (us-east-1 for
IAM, Route 53, Organizations, CloudFront; an S3 bucket's own region). The newest one becomes the finding's
:class:`~parity.model.Attribution` (principal, event, time, console/CLI/SDK, source IP) and a note; when the
environment declares ``deploy_roles``, the newest change by a principal matching none of them wins over a
later change by the deploy path (the pipeline applies code: it cannot have made live differ from it) and is
called out as **out-of-band**.

What the drift may be blamed on: a finding seen in an earlier scan existed then, so its lookup window ends at
its ``first_seen`` (a later change did not cause it; past CloudTrail's 90 days nothing is asked); a finding
attributed in the store (and not resolved since) keeps its stored attribution without a call, unless it is a
``changed`` finding whose changes differ from the stored ones (someone changed the resource again: asked anew).

Bounded: at most ``attribution.max_lookups`` calls per scan, paced at two per second per client, the same
name asked once per scan. A lookup that fails (denied, throttled) is a note, never an error: attribution is
evidence, not a verdict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import botocore.exceptions

from parity.compare.types import Inventory
from parity.config import AwsSource, LoadedConfig
from parity.errors import ParityError
from parity.model import Attribution, Finding, Resource
from parity.serialize import canonical_json, change_to_dict
from parity.sources.aws.cloudtrail import Lookup, LookupFailed, Pacer, TrailEvent, lookup_changes
from parity.sources.aws.failures import describe
from parity.sources.aws.types.s3 import bucket_region

KINDS = frozenset({"changed", "unmanaged", "elevated_grant"})
HISTORY = dt.timedelta(days=90)  # what CloudTrail's event history keeps
# the scan that first saw a finding ran after the change that caused it; the slack covers clocks that disagree
CLOCK_SLACK = dt.timedelta(minutes=15)
# services whose events CloudTrail records in one region of the partition, whatever region the caller used
GLOBAL_SERVICES = frozenset({"iam", "route53", "route53domains", "organizations", "cloudfront", "sts", "waf",
                             "globalaccelerator", "shield"})  # fmt: skip
GLOBAL_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
# (environment, source name, region) -> a cloudtrail client; replaced in tests
ClientFactory = Callable[[str, AwsSource, str], Any]


def via(event: TrailEvent) -> str:
    """How the change was made, from the user agent (and the identity type)."""
    ua = event.user_agent.lower()
    if "console" in ua or "signin.amazonaws.com" in ua:
        return "console"
    if event.identity_type == "AWSService" or ua.endswith(".amazonaws.com"):
        return "cloudformation" if "cloudformation" in ua else "aws-service"
    if "terraform" in ua:
        return "terraform"
    if ua.startswith("aws-cli"):
        return "cli"
    if any(s in ua for s in ("boto", "aws-sdk", "aws-internal")):
        return "sdk"
    return "other"


def is_deploy_role(event: TrailEvent, globs: Sequence[str]) -> bool:
    """Whether ``event``'s principal is one of ``globs``: matched against the role ARN behind a session, the
    principal ARN, and a name: an IAM user's name, or the name of the role behind a session.

    Never against a role **session name** (the caller picks it: anyone who may assume ``Admin`` can call
    their session ``ci-deploy``), so a glob without ``:`` or ``/`` is matched against identity names only,
    and a session ARN (``...:assumed-role/Admin/ci-deploy``) only by a glob that names a session
    (``assumed-role/``, ``federated-user/``): ``*/ci-deploy`` is the role ``ci-deploy``, not any session
    called that.
    """
    arns = [a for a in (event.role, event.principal) if a]
    names = [event.role_name] if event.role_name else []
    if event.identity_type in ("IAMUser", "Root") and event.user:
        names.append(event.user)
    # a session ARN ends in a name its caller chose: matched only by a glob naming that kind of session
    session = next((k for k in (":assumed-role/", ":federated-user/") if k in event.principal), None)
    for g in globs:
        if ":" not in g and "/" not in g:  # IAM names hold neither: such a glob names identities
            if any(fnmatch.fnmatchcase(n, g) for n in names):
                return True
            continue
        for a in arns:
            if a == event.principal and session and session[1:] not in g:
                continue
            if fnmatch.fnmatchcase(a, g):
                return True
    return False


def pick(events: Sequence[TrailEvent], deploy_roles: Sequence[str]) -> TrailEvent | None:
    """The change the finding is attributed to: the newest, except that with ``deploy_roles`` declared the
    newest change by anyone else wins over later changes by the deploy path."""
    ordered = sorted(events, key=lambda e: e.time, reverse=True)
    if deploy_roles:
        for e in ordered:
            if not is_deploy_role(e, deploy_roles):
                return e
    return ordered[0] if ordered else None


def attribution_of(event: TrailEvent, deploy_roles: Sequence[str]) -> Attribution:
    deploy = is_deploy_role(event, deploy_roles)
    return Attribution(
        principal=event.principal,
        event=event.name,
        time=event.time,
        via=via(event),
        user=event.user,
        role=event.role,
        source_ip=event.source_ip,
        user_agent=event.user_agent,
        event_id=event.event_id,
        deploy_role=deploy,
        out_of_band=(not deploy) if deploy_roles else None,
    )


def note(a: Attribution, env: str) -> str:
    who = a.role or a.principal or a.user or "an unknown principal"
    if a.role and a.user:
        who += f" (session {a.user})"
    where = f" from {a.source_ip}" if a.source_ip and a.via != "aws-service" else ""
    text = f"last changed by {who} via {a.via}{where} at {a.time:%Y-%m-%d %H:%M} UTC ({a.event})"
    if a.out_of_band:
        text += f"; not a deploy role of {env}: out-of-band change"
    elif a.deploy_role:
        text += f"; a deploy role of {env}"
    return text


def _resource(inv: Inventory | None, f: Finding, env: str) -> tuple[str, Resource] | None:
    """(source name, resource) of the live AWS resource the finding names in ``env``."""
    rid = f.resources.get(env)
    if inv is None or rid is None:
        return None
    for snap in inv.snapshots:
        if snap.kind != "aws":
            continue
        for r in snap.resources:
            if r.id == rid and r.type == f.type:
                return snap.source, r
    return None


def _arn(r: Resource) -> list[str] | None:
    arn = r.attributes.get("arn")
    if isinstance(arn, str) and arn.startswith("arn:") and arn.count(":") >= 5:
        return arn.split(":", 5)
    return None


def _names(r: Resource) -> list[str]:
    arn = r.attributes.get("arn")
    return list(dict.fromkeys(n for n in (arn if isinstance(arn, str) else None, r.name, r.id) if n))


def _service(r: Resource) -> str | None:
    """The eventSource of the resource's service (``sqs.amazonaws.com``), from its ARN; None when unknown."""
    parts = _arn(r)
    return f"{parts[2]}.amazonaws.com" if parts and parts[2] else None


def _region(r: Resource, spec: AwsSource) -> str:
    """The region whose event history holds the resource's events."""
    parts = _arn(r)
    if parts and parts[3]:
        return parts[3]
    if parts and parts[2] in GLOBAL_SERVICES:
        return GLOBAL_REGION.get(parts[1], "us-east-1")
    own = r.attributes.get("region")  # an S3 bucket's events are in the bucket's region
    if parts and parts[2] == "s3" and isinstance(own, str) and own:
        return bucket_region(own)  # (a state may still say EU)
    if isinstance(spec.regions, list) and spec.regions:
        return spec.regions[0]
    return r.origin.rsplit("/", 1)[-1] if "/" in r.origin else "us-east-1"


def _changes(f: Finding) -> bytes:
    return canonical_json([change_to_dict(c) for c in f.changes])


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def default_clients(loaded: LoadedConfig) -> ClientFactory:
    """Guarded cloudtrail clients, one session per (environment, source), made on first use."""
    from parity.sources.aws.session import AwsSession, Target

    sessions: dict[tuple[str, str], AwsSession] = {}

    def make(env: str, spec: AwsSource, region: str) -> Any:
        key = (env, spec.name or "")
        if key not in sessions:
            sessions[key] = AwsSession(
                Target(
                    profile=spec.profile,
                    role_arn=spec.role_arn,
                    external_id=spec.external_id,
                    endpoint_url=spec.endpoint_url,
                )
            )
        return sessions[key].client("cloudtrail", region)

    return make


def _spec(loaded: LoadedConfig, env: str, source: str) -> AwsSource | None:
    for i, src in enumerate(loaded.config.environments[env].sources):
        if isinstance(src, AwsSource) and loaded.source_name(env, i) == source:
            return src
    return None


def _of(events: Sequence[TrailEvent], service: str | None) -> list[TrailEvent]:
    """``events`` of ``service``: a bare name is shared by other services' resources (a queue and a topic
    called ``orders``), so what a name lookup found counts only when it came from the resource's service."""
    return [e for e in events if service is None or e.source == service]


def _enough(deploy_roles: Sequence[str], service: str | None) -> Callable[[list[TrailEvent]], bool]:
    """Whether the events read so far settle the question (no later page can change the answer, pages being
    newest first): a change by anyone outside ``deploy_roles`` (any change when none are declared)."""

    def enough(events: list[TrailEvent]) -> bool:
        return any(not deploy_roles or not is_deploy_role(e, deploy_roles) for e in _of(events, service))

    return enough


def _window(
    f: Finding, before: Finding | None, now: dt.datetime, window: dt.timedelta
) -> tuple[dt.datetime, dt.datetime] | None:
    """(start, end) of the events that may have caused ``f``; None when they are past CloudTrail's history.

    A finding an earlier scan saw (and still open, with the same changes) existed at its ``first_seen``:
    what changed the resource after that did not cause it."""
    end = now
    if (
        before is not None
        and before.first_seen is not None
        and before.status != "resolved"
        and (f.kind != "changed" or _changes(before) == _changes(f))
    ):
        end = min(now, _utc(before.first_seen) + CLOCK_SLACK)
    if end <= now - HISTORY:
        return None
    return max(end - window, now - HISTORY), end


def attribute(
    loaded: LoadedConfig,
    findings: Sequence[Finding],
    inventories: Mapping[str, Inventory],
    *,
    stored: Mapping[str, Finding] | None = None,
    clients: ClientFactory | None = None,
    now: dt.datetime | None = None,
    pacer: Pacer | None = None,
) -> tuple[list[Finding], list[str]]:
    """``findings`` with attribution where CloudTrail knows who changed the resource, and notes on failures."""
    settings = loaded.config.attribution
    if not settings.enabled:
        return list(findings), []
    now = _utc(now or dt.datetime.now(dt.UTC))
    clients = clients or default_clients(loaded)
    pacer = pacer or Pacer()
    budget = settings.max_lookups
    failed: set[str] = set()
    notes: list[str] = []
    out: list[Finding] = []
    skipped = 0
    asked: dict[tuple[str, str, str, str, str, dt.datetime, dt.datetime], Lookup] = {}

    def take() -> bool:
        nonlocal budget
        if budget <= 0:
            return False
        budget -= 1
        return True

    for f in findings:
        env = f.environments[0] if len(f.environments) == 1 else None
        found = _resource(inventories.get(env), f, env) if env and f.kind in KINDS else None
        if env is None or found is None:
            out.append(f)
            continue
        before = (stored or {}).get(f.id)
        if (
            before is not None
            and before.attribution is not None
            and before.status != "resolved"
            and (f.kind != "changed" or _changes(before) == _changes(f))
        ):
            a = dataclasses.replace(before.attribution)
            out.append(dataclasses.replace(f, attribution=a, notes=(*f.notes, note(a, env))))
            continue
        source, r = found
        spec = _spec(loaded, env, source)
        if spec is None or env in failed:
            out.append(f)
            continue
        span = _window(f, before, now, settings.window)
        if span is None:
            seen = before.first_seen if before is not None and before.first_seen else now
            text = f"attribution: not looked up: first seen {seen:%Y-%m-%d}, beyond CloudTrail's 90-day event history"
            out.append(dataclasses.replace(f, notes=(*f.notes, text)))
            continue
        deploy_roles = loaded.config.environments[env].deploy_roles
        service = _service(r)
        arn = r.attributes.get("arn")
        chosen: TrailEvent | None = None
        try:
            region = _region(r, spec)
            try:
                client = clients(env, spec, region)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                raise LookupFailed(describe(e)) from None
            for name in _names(r):
                only = service if name != arn else None
                key = (env, source, region, name, only or "", *span)
                got = asked.get(key)
                if got is None:
                    got = lookup_changes(
                        client, name, *span, take=take, enough=_enough(deploy_roles, only), pacer=pacer
                    )
                    asked[key] = got
                chosen = pick(_of(got.events, only), deploy_roles)
                if got.cut_short:
                    skipped += 1
                if chosen is not None or got.cut_short:
                    break
        except (LookupFailed, ParityError) as e:
            failed.add(env)
            notes.append(f"attribution: CloudTrail lookup failed in {env}: {e}")
            chosen = None
        if chosen is None:
            out.append(f)
            continue
        a = attribution_of(chosen, deploy_roles)
        out.append(dataclasses.replace(f, attribution=a, notes=(*f.notes, note(a, env))))
    if skipped:
        notes.append(
            f"attribution: {skipped} finding(s) not (fully) looked up (attribution.max_lookups {settings.max_lookups})"
        )
    return out, notes
