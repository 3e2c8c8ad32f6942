"""Attribution probed for wrong answers: several changes to one resource, the deploy path's own changes, session
names that imitate a deploy role, pages full of read events, names shared across services, global services'
regions, stale stored answers, findings older than CloudTrail's history, malformed events and secrets in events.

moto 5 does not implement cloudtrail:LookupEvents, so the cloudtrail client answers from recorded responses
(botocore's Stubber): end to end through ``parity scan`` against moto where the listing matters, and through
:func:`parity.attribution.attribute` on hand-built inventories where only the lookup does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from parity.attribution import attribute, attribution_of, is_deploy_role
from parity.compare.types import Inventory
from parity.config import AwsSource, LoadedConfig, load_config
from parity.model import Attribution, Change, Finding, Resource, Snapshot
from parity.sources.aws import cloudtrail
from parity.sources.aws.cloudtrail import _event
from test_attribution import Recorded, account, assumed, lookup, scan, stubbed, trail_event  # noqa: F401

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
ACCT = "123456789012"
CONSOLE = "Mozilla/5.0 (X11; Linux x86_64) console.amazonaws.com"
TERRAFORM = "APN/1.0 HashiCorp/1.0 Terraform/1.6.0 terraform-provider-aws/5.31.0"


# helpers ---------------------------------------------------------------------------------------------------


def raw_event(
    name: str,
    ident: dict[str, Any],
    when: dt.datetime,
    *,
    source: str = "sqs.amazonaws.com",
    read_only: bool = False,
    agent: str = CONSOLE,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source, "eventName": name, "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.7",
            "userAgent": agent, "readOnly": read_only, "eventID": f"id-{name}-{when:%s}", **(extra or {})}  # fmt: skip
    user = ident.get("userName") or str(ident.get("arn", "")).rsplit("/", 1)[-1]
    return {"EventId": body["eventID"], "EventName": name, "ReadOnly": str(read_only).lower(), "EventTime": when,
            "EventSource": source, "Username": user, "CloudTrailEvent": json.dumps(body)}  # fmt: skip


def params(name: str, start: Any = ANY, end: Any = ANY, token: str | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": name}],
                         "StartTime": start, "EndTime": end, "MaxResults": 50}  # fmt: skip
    if token:
        p["NextToken"] = token
    return p


@dataclasses.dataclass
class Trail:
    """A cloudtrail client answering from a Stubber, and the regions parity asked for clients in."""

    stub: Stubber
    client: Any
    regions: list[str] = dataclasses.field(default_factory=list)

    def factory(self, env: str, spec: AwsSource, region: str) -> Any:
        self.regions.append(region)
        return self.client

    def answer(self, name: str, events: list[dict[str, Any]], **kw: Any) -> None:
        token = kw.pop("next_token", None)
        body: dict[str, Any] = {"Events": events, **({"NextToken": token} if token else {})}
        self.stub.add_response("lookup_events", body, params(name, **kw))


@pytest.fixture
def trail() -> Iterator[Trail]:
    client = boto3.client("cloudtrail", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield Trail(stub, client)


def config(
    tmp_path: Path, deploy_roles: list[str] | None = None, lookback: str = "7d", lookups: int = 10
) -> LoadedConfig:
    (tmp_path / "parity.yaml").write_text(
        "environments:\n  production:\n"
        f"    deploy_roles: {json.dumps(deploy_roles or [])}\n"
        "    sources:\n      - {kind: aws, name: live, regions: [eu-west-1]}\n"
        f"attribution: {{lookback: {lookback}, max_lookups: {lookups}}}\n"
    )
    return load_config(tmp_path / "parity.yaml")


def inventory(*resources: Resource) -> dict[str, Inventory]:
    snap = Snapshot(environment="production", source="live", kind="aws", role="live", collected_at=NOW,
                    resources=resources)  # fmt: skip
    return {"production": Inventory("production", (snap,))}


def queue(name: str = "orders-prod", region: str = "eu-west-1") -> Resource:
    arn = f"arn:aws:sqs:{region}:{ACCT}:{name}"
    return Resource("aws_sqs_queue", f"https://sqs.{region}.amazonaws.com/{ACCT}/{name}", arn,
                    attributes={"arn": arn}, origin=f"aws:{ACCT}/{region}", name=name)  # fmt: skip


def finding(r: Resource, kind: str = "changed", changes: tuple[Change, ...] = ()) -> Finding:
    return Finding(kind=kind, severity="medium", type=r.type, key=r.key, environments=("production",),  # type: ignore[arg-type]
                   resources={"production": r.id}, message="m", changes=changes)  # fmt: skip


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pacing is tested on its own (a fake clock): here the lookups do not sleep."""
    if hasattr(cloudtrail, "Pacer"):
        monkeypatch.setattr("parity.attribution.Pacer", lambda: cloudtrail.Pacer(sleep=lambda s: None))


def run(loaded: LoadedConfig, trail: Trail, r: Resource, f: Finding, **kw: Any) -> tuple[Finding, list[str]]:
    (out,), notes = attribute(loaded, [f], inventory(r), clients=trail.factory, now=NOW, **kw)
    return out, notes


# end to end through `parity scan` --------------------------------------------------------------------------


def test_a_later_change_by_the_deploy_role_does_not_hide_the_out_of_band_one(
    account: tuple[str, Path],  # noqa: F811
    stubbed: Recorded,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Maria changed the queue in the console yesterday; an hour ago the pipeline tagged it (TagQueue): the
    drift between code and live is not the pipeline's (it applies code), so the answer is Maria, out-of-band."""
    acct, cfg = account
    orders, debug = (f"arn:aws:sqs:eu-west-1:{acct}:{q}" for q in ("orders-prod", "debug-by-hand"))
    stubbed.responses += [
        ("ok", {"Events": [
            trail_event("TagQueue", assumed(acct, "ci-deploy", "gh-run-43"), TERRAFORM, "203.0.113.9",
                        dt.timedelta(hours=1)),
            trail_event("SetQueueAttributes", assumed(acct, "Admin", "maria"), CONSOLE, "198.51.100.7",
                        dt.timedelta(days=1)),
        ]}, lookup(orders)),
        ("ok", {"Events": []}, lookup(debug)),
        ("ok", {"Events": []}, lookup("debug-by-hand")),
        ("ok", {"Events": []}, lookup(f"https://sqs.eu-west-1.amazonaws.com/{acct}/debug-by-hand")),
    ]  # fmt: skip
    doc = scan(capsys, cfg)
    (changed,) = [f for f in doc["findings"] if f["kind"] == "changed"]
    a = changed["attribution"]
    assert (a["user"], a["event"], a["out_of_band"], a["deploy_role"]) == ("maria", "SetQueueAttributes", True, False)
    assert any("out-of-band" in n for n in changed["notes"])


def test_secrets_in_event_payloads_are_never_shown_or_stored(
    account: tuple[str, Path],  # noqa: F811
    stubbed: Recorded,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """requestParameters of CreateSecret / PutParameter carry the value: none of it reaches a report or the store."""
    acct, cfg = account
    secret = "hunter2-TOPSECRET-value"
    ev = trail_event("SetQueueAttributes", assumed(acct, "Admin", "maria"), CONSOLE, "198.51.100.7",
                     dt.timedelta(hours=2))  # fmt: skip
    body = json.loads(ev["CloudTrailEvent"])
    body["requestParameters"] = {"secretString": secret, "value": secret, "attributes": {"Policy": secret}}
    body["responseElements"] = {"SecretString": secret}
    ev["CloudTrailEvent"] = json.dumps(body)
    stubbed.responses += [
        ("ok", {"Events": [ev]}, lookup(f"arn:aws:sqs:eu-west-1:{acct}:orders-prod")),
        ("ok", {"Events": [ev]}, lookup(f"arn:aws:sqs:eu-west-1:{acct}:debug-by-hand")),
    ]
    for fmt in ("json", "table", "markdown", "sarif", "junit"):
        from parity.cli import main

        main(["scan", "-c", str(cfg), "--format", fmt])
        out, err = capsys.readouterr()
        assert secret not in out + err, fmt
    db = cfg.parent / "p.db"
    with sqlite3.connect(db) as conn:
        for (table,) in conn.execute("select name from sqlite_master where type='table'").fetchall():
            for row in conn.execute(f'select * from "{table}"').fetchall():
                assert secret not in repr(row), table
    for f in (cfg.parent / ".parity").rglob("*") if (cfg.parent / ".parity").exists() else ():
        if f.is_file():
            assert secret.encode() not in f.read_bytes()


# who the principal is --------------------------------------------------------------------------------------


def test_a_session_named_like_the_deploy_role_is_not_the_deploy_role() -> None:
    """The caller picks a role session's name: Admin's session called ci-deploy is not the ci-deploy role."""
    spoof = _event(raw_event("SetQueueAttributes", assumed(ACCT, "Admin", "ci-deploy"), NOW))
    real = _event(raw_event("SetQueueAttributes", assumed(ACCT, "ci-deploy", "gh-run-7"), NOW))
    assert spoof is not None and real is not None
    for globs in (["ci-deploy"], ["*/ci-deploy"], ["arn:aws:*:*:*/ci-deploy"]):
        assert not is_deploy_role(spoof, globs), globs
        assert attribution_of(spoof, globs).out_of_band is True
        assert is_deploy_role(real, globs), globs  # a bare name or a glob names the role itself
    # an IAM user is matched by its (real) name; a glob that names sessions explicitly still works
    user = _event(raw_event("PutX", {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCT}:user/terraform",
                                     "userName": "terraform", "accountId": ACCT}, NOW))  # fmt: skip
    assert user is not None and is_deploy_role(user, ["terraform"])
    assert is_deploy_role(real, [f"arn:aws:sts::{ACCT}:assumed-role/ci-deploy/*"])


def test_identity_types_are_named() -> None:
    """An AWS service acting has no ARN: it is named by the service, not as "an unknown principal"."""
    from parity.attribution import note

    svc = _event(raw_event("UpdateAutoScalingGroup", {"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"},
                           NOW, agent="autoscaling.amazonaws.com"))  # fmt: skip
    root = _event(raw_event("SetQueueAttributes", {"type": "Root", "arn": f"arn:aws:iam::{ACCT}:root",
                                                    "accountId": ACCT}, NOW))  # fmt: skip
    assert svc is not None and root is not None
    a = attribution_of(svc, [])
    assert (a.principal, a.via) == ("autoscaling.amazonaws.com", "aws-service")
    assert "unknown principal" not in note(a, "production")
    assert attribution_of(root, [f"arn:aws:iam::{ACCT}:role/ci"]).out_of_band is True


# what CloudTrail answers -------------------------------------------------------------------------------------


def test_malformed_events_are_skipped_not_a_crash(tmp_path: Path, trail: Trail) -> None:
    r = queue()
    good = raw_event("SetQueueAttributes", assumed(ACCT, "Admin", "maria"), NOW - dt.timedelta(days=2))
    no_time = {k: v for k, v in good.items() if k != "EventTime"}
    no_time["CloudTrailEvent"] = json.dumps({**json.loads(good["CloudTrailEvent"]), "eventTime": "yesterday"})
    trail.answer(r.attributes["arn"], [  # type: ignore[arg-type]
        {"EventId": "a", "EventName": "X", "CloudTrailEvent": "[1, 2]", "EventTime": NOW},
        {"EventId": "b", "EventName": "X", "CloudTrailEvent": json.dumps({"userIdentity": "root"}), "EventTime": NOW},
        {"EventId": "c", "EventName": "X", "CloudTrailEvent": json.dumps(
            {"userIdentity": {"type": "AssumedRole", "sessionContext": "x"}}), "EventTime": NOW - dt.timedelta(days=1)},
        no_time, good,
    ])  # fmt: skip
    out, notes = run(config(tmp_path), trail, r, finding(r))
    assert notes == []
    assert out.attribution is not None and out.attribution.event == "X"  # the newest with a usable time
    trail.stub.assert_no_pending_responses()


def test_pages_of_read_events_are_read_past_until_a_change(tmp_path: Path, trail: Trail) -> None:
    """A monitor polling GetQueueAttributes fills a page: the write on the next page is the answer."""
    r = queue()
    reads = [raw_event("GetQueueAttributes", assumed(ACCT, "monitor", "probe"), NOW - dt.timedelta(minutes=i),
                       read_only=True) for i in range(1, 51)]  # fmt: skip
    write = raw_event("SetQueueAttributes", assumed(ACCT, "Admin", "maria"), NOW - dt.timedelta(days=1))
    arn = str(r.attributes["arn"])
    trail.answer(arn, reads, next_token="p2")
    trail.answer(arn, [write], token="p2")
    out, _ = run(config(tmp_path), trail, r, finding(r))
    assert out.attribution is not None and out.attribution.user == "maria"
    trail.stub.assert_no_pending_responses()


def test_the_newest_change_wins_whatever_order_a_page_lists(tmp_path: Path, trail: Trail) -> None:
    r = queue()
    old = raw_event("SetQueueAttributes", assumed(ACCT, "Admin", "bob"), NOW - dt.timedelta(days=3))
    new = raw_event("SetQueueAttributes", assumed(ACCT, "Admin", "maria"), NOW - dt.timedelta(hours=3))
    trail.answer(str(r.attributes["arn"]), [old, new])
    out, _ = run(config(tmp_path), trail, r, finding(r))
    assert out.attribution is not None and out.attribution.user == "maria"


def test_a_name_lookup_ignores_another_services_resource_of_that_name(tmp_path: Path, trail: Trail) -> None:
    """Nothing names the queue's ARN; its bare name also names an SNS topic, whose change is not the queue's."""
    r = queue("orders")
    topic = raw_event("SetTopicAttributes", assumed(ACCT, "Admin", "bob"), NOW - dt.timedelta(hours=1),
                      source="sns.amazonaws.com")  # fmt: skip
    trail.answer(str(r.attributes["arn"]), [])
    trail.answer("orders", [topic])
    trail.answer(r.id, [])
    out, _ = run(config(tmp_path), trail, r, finding(r))
    assert out.attribution is None
    trail.stub.assert_no_pending_responses()


def test_global_services_are_looked_up_where_cloudtrail_records_them(tmp_path: Path, trail: Trail) -> None:
    """IAM's events are in us-east-1 (a source scanning eu-west-1 would never find them); a bucket's in its
    own region."""
    arn = f"arn:aws:iam::{ACCT}:role/ops"
    role = Resource("aws_iam_role", "ops", arn, attributes={"arn": arn}, origin=f"aws:{ACCT}/eu-west-1", name="ops")
    bucket = Resource("aws_s3_bucket", "logs", "arn:aws:s3:::logs", name="logs", origin=f"aws:{ACCT}/eu-west-1",
                      attributes={"arn": "arn:aws:s3:::logs", "region": "ap-southeast-2"})  # fmt: skip
    attach = raw_event("AttachRolePolicy", assumed(ACCT, "Admin", "maria"), NOW - dt.timedelta(hours=1),
                       source="iam.amazonaws.com")  # fmt: skip
    trail.answer(arn, [attach])
    trail.answer("arn:aws:s3:::logs", [])
    trail.answer("logs", [])
    loaded = config(tmp_path)
    findings = [finding(role, "elevated_grant"), finding(bucket, "unmanaged")]
    out, _ = attribute(loaded, findings, inventory(role, bucket), clients=trail.factory, now=NOW)
    assert trail.regions == ["us-east-1", "ap-southeast-2"]
    assert out[0].attribution is not None and out[0].attribution.event == "AttachRolePolicy"
    from parity.attribution import _region

    old = dataclasses.replace(bucket, attributes={"arn": "arn:aws:s3:::logs", "region": "EU"})
    assert _region(old, AwsSource(kind="aws", regions=["us-west-2"])) == "eu-west-1"  # GetBucketLocation's old name


def test_a_client_that_cannot_be_made_is_a_note(tmp_path: Path) -> None:
    import botocore.exceptions

    def broken(env: str, spec: AwsSource, region: str) -> Any:
        raise botocore.exceptions.NoCredentialsError()

    r = queue()
    (out,), notes = attribute(config(tmp_path), [finding(r)], inventory(r), clients=broken, now=NOW)
    assert out.attribution is None
    (n,) = notes
    assert n.startswith("attribution: CloudTrail lookup failed in production: NoCredentialsError")


# what the store already knows ------------------------------------------------------------------------------


def test_a_stored_attribution_is_asked_anew_when_the_drift_changed(tmp_path: Path, trail: Trail) -> None:
    """Scan 1 blamed Maria for visibility 30; since then Bob set it to 45: "last changed by Maria" would be false."""
    r = queue()
    maria = Attribution(principal=f"arn:aws:sts::{ACCT}:assumed-role/Admin/maria", event="SetQueueAttributes",
                        time=NOW - dt.timedelta(days=3), via="console", user="maria")  # fmt: skip
    stored = dataclasses.replace(finding(r, changes=(Change("visibility_timeout_seconds", 120, 30),)),
                                 attribution=maria, status="open", first_seen=NOW - dt.timedelta(days=3))  # fmt: skip
    bob_id = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCT}:user/bob", "userName": "bob"}
    bob = raw_event("SetQueueAttributes", bob_id, NOW - dt.timedelta(hours=5), agent="aws-cli/2.15")
    trail.answer(str(r.attributes["arn"]), [bob])
    now_f = finding(r, changes=(Change("visibility_timeout_seconds", 120, 45),))
    out, _ = run(config(tmp_path), trail, r, now_f, stored={now_f.id: stored})
    assert out.attribution is not None and (out.attribution.user, out.attribution.via) == ("bob", "cli")
    # the same drift as stored keeps its stored answer without a call
    same = finding(r, changes=(Change("visibility_timeout_seconds", 120, 30),))
    out, _ = run(config(tmp_path), trail, r, same, stored={same.id: stored})
    assert out.attribution == maria


def test_an_open_finding_is_blamed_only_on_changes_before_it_was_first_seen(tmp_path: Path, trail: Trail) -> None:
    """Seen 10 days ago and never attributed: a change made after that did not cause it."""
    r = queue()
    first = NOW - dt.timedelta(days=10)
    stored = dataclasses.replace(finding(r), status="open", first_seen=first)
    end = first + dt.timedelta(minutes=15)
    old = raw_event("SetQueueAttributes", assumed(ACCT, "Admin", "maria"), first - dt.timedelta(days=1))
    trail.answer(str(r.attributes["arn"]), [old], start=end - dt.timedelta(days=7), end=end)
    f = finding(r)
    out, _ = run(config(tmp_path), trail, r, f, stored={f.id: stored})
    assert out.attribution is not None and out.attribution.user == "maria"
    trail.stub.assert_no_pending_responses()


def test_a_finding_older_than_cloudtrails_history_is_not_looked_up(tmp_path: Path, trail: Trail) -> None:
    r = queue()
    f = finding(r)
    stored = dataclasses.replace(f, status="open", first_seen=NOW - dt.timedelta(days=120))
    out, notes = run(config(tmp_path, lookback="90d"), trail, r, f, stored={f.id: stored})
    assert out.attribution is None and notes == []
    assert any("beyond CloudTrail's 90-day event history" in n for n in out.notes)
    assert trail.regions == []  # no client, no call


# pace and budget ---------------------------------------------------------------------------------------------


def test_lookups_are_paced_per_client() -> None:
    t = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        t[0] += s

    p = cloudtrail.Pacer(rate=2.0, clock=lambda: t[0], sleep=sleep)
    a, b = object(), object()
    p.wait(a)
    p.wait(b)  # another client (account/region): no wait
    p.wait(a)  # the same client at once: waits half a second
    t[0] += 2.0
    p.wait(a)  # long after: no wait
    assert slept == [0.5]


def test_paging_stops_at_the_budget(tmp_path: Path, trail: Trail) -> None:
    r = queue()
    reads = [raw_event("GetQueueAttributes", assumed(ACCT, "monitor", "probe"), NOW - dt.timedelta(minutes=1),
                       read_only=True)]  # fmt: skip
    trail.answer(str(r.attributes["arn"]), reads, next_token="p2")
    out, notes = run(config(tmp_path, lookups=1), trail, r, finding(r))
    assert out.attribution is None
    assert notes == ["attribution: 1 finding(s) not (fully) looked up (attribution.max_lookups 1)"]
    trail.stub.assert_no_pending_responses()
