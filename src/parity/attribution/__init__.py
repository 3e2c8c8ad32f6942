"""Attribution: who changed a drifted AWS resource, and whether that was the environment's deploy path.

For ``changed``, ``unmanaged`` and ``elevated_grant`` findings about a resource a live ``aws`` source listed,
the CloudTrail event history of that account (:func:`parity.sources.aws.cloudtrail.lookup_changes`) is asked
for the write events naming the resource (its ARN, then its name) within ``attribution.lookback``. The newest
one becomes the finding's :class:`~parity.model.Attribution` (principal, event, time, console/CLI/SDK, source
IP) and a note; when the environment declares ``deploy_roles`` and the principal matches none of them, the
change is called out as **out-of-band**.

Bounded: at most ``attribution.max_lookups`` calls per scan; a finding already attributed in the store (and
not resolved since) keeps its stored attribution without a call. A lookup that fails (denied, throttled) is a
note, never an error: attribution is evidence, not a verdict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from parity.compare.types import Inventory
from parity.config import AwsSource, LoadedConfig
from parity.errors import ParityError
from parity.model import Attribution, Finding, Resource
from parity.sources.aws.cloudtrail import LookupFailed, TrailEvent, lookup_changes

KINDS = frozenset({"changed", "unmanaged", "elevated_grant"})
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
    names = [n for n in (event.role, event.principal, event.user) if n]
    return any(fnmatch.fnmatchcase(n, g) for n in names for g in globs)


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


def _names(r: Resource) -> list[str]:
    arn = r.attributes.get("arn")
    return list(dict.fromkeys(n for n in (arn if isinstance(arn, str) else None, r.name, r.id) if n))


def _region(r: Resource, spec: AwsSource) -> str:
    arn = r.attributes.get("arn")
    if isinstance(arn, str) and arn.count(":") >= 5 and arn.split(":")[3]:
        return arn.split(":")[3]
    if isinstance(spec.regions, list) and spec.regions:
        return spec.regions[0]
    return r.origin.rsplit("/", 1)[-1] if "/" in r.origin else "us-east-1"


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


def attribute(
    loaded: LoadedConfig,
    findings: Sequence[Finding],
    inventories: Mapping[str, Inventory],
    *,
    stored: Mapping[str, Finding] | None = None,
    clients: ClientFactory | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[Finding], list[str]]:
    """``findings`` with attribution where CloudTrail knows who changed the resource, and notes on failures."""
    settings = loaded.config.attribution
    if not settings.enabled:
        return list(findings), []
    now = now or dt.datetime.now(dt.UTC)
    start = now - settings.window
    clients = clients or default_clients(loaded)
    budget = settings.max_lookups
    failed: set[str] = set()
    notes: list[str] = []
    out: list[Finding] = []
    skipped = 0
    for f in findings:
        env = f.environments[0] if len(f.environments) == 1 else None
        found = _resource(inventories.get(env), f, env) if env and f.kind in KINDS else None
        if env is None or found is None:
            out.append(f)
            continue
        before = (stored or {}).get(f.id)
        if before is not None and before.attribution is not None and before.status != "resolved":
            a = dataclasses.replace(before.attribution)
            out.append(dataclasses.replace(f, attribution=a, notes=(*f.notes, note(a, env))))
            continue
        source, r = found
        spec = _spec(loaded, env, source)
        if spec is None or env in failed:
            out.append(f)
            continue
        events: list[TrailEvent] = []
        try:
            client = clients(env, spec, _region(r, spec))
            for name in _names(r):
                if budget <= 0:
                    skipped += 1
                    break
                budget -= 1
                events = lookup_changes(client, name, start, now)
                if events:
                    break
        except (LookupFailed, ParityError) as e:
            failed.add(env)
            notes.append(f"attribution: CloudTrail lookup failed in {env}: {e}")
        if not events:
            out.append(f)
            continue
        a = attribution_of(events[0], loaded.config.environments[env].deploy_roles)
        out.append(dataclasses.replace(f, attribution=a, notes=(*f.notes, note(a, env))))
    if skipped:
        notes.append(
            f"attribution: {skipped} finding(s) not (fully) looked up (attribution.max_lookups {settings.max_lookups})"
        )
    return out, notes
