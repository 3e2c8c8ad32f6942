"""The aws source against moto's server over real HTTP: two accounts, two regions, faults injected with
botocore's own event hooks (a before-call handler that answers with an AWS error, as the service would)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from conftest import account_session, new_account
from parity.config import AwsSource
from parity.model import Snapshot
from parity.redact import Redactor
from parity.registry import CollectContext, source_kinds, type_info
from parity.sources.aws import guard
from parity.sources.aws.collector import collect
from parity.sources.aws.session import AwsSession
from parity.sources.aws.spec import listers

REGIONS = ["eu-west-1", "us-east-1"]


def aws_spec(moto_url: str, account: str, **kw: Any) -> AwsSource:
    return AwsSource.model_validate(
        {"kind": "aws", "regions": kw.pop("regions", REGIONS), "endpoint_url": moto_url,
         "role_arn": f"arn:aws:iam::{account}:role/parity-readonly", **kw}
    )  # fmt: skip


def run(spec: AwsSource, redactor: Redactor, env: str = "staging") -> Snapshot:
    ctx = CollectContext(environment=env, source_name="aws", base_dir=Path("."), redactor=redactor, role="live",
                         tokens={"staging": ("staging", "stg"), "production": ("production", "prod")})  # fmt: skip
    (snap,) = collect(spec, ctx)
    return snap


def by_type(snap: Snapshot, type_: str) -> dict[str, Any]:
    return {r.id: r for r in snap.resources if r.type == type_}


def test_kind_registered_and_types_known() -> None:
    assert "aws" in source_kinds()
    assert type_info("aws_sqs_queue") is not None
    assert type_info("aws_s3_bucket_policy").parent == ("aws_s3_bucket", "bucket")  # type: ignore[union-attr]


def test_s3_bucket_settings_are_read(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    s3 = account_session(moto_url, acct).client("s3", endpoint_url=moto_url)  # type: ignore[attr-defined]
    s3.create_bucket(Bucket=f"logs-{acct}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=f"logs-{acct}", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=f"logs-{acct}", Tagging={"TagSet": [{"Key": "app", "Value": "shop"}]})
    s3.put_public_access_block(
        Bucket=f"logs-{acct}",
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                        "BlockPublicPolicy": True, "RestrictPublicBuckets": False},
    )  # fmt: skip
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::logs-{acct}/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [deny]}
    s3.put_bucket_policy(Bucket=f"logs-{acct}", Policy=json.dumps(policy))
    s3.put_bucket_encryption(
        Bucket=f"logs-{acct}",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    east = account_session(moto_url, acct, "us-east-1").client("s3", endpoint_url=moto_url)  # type: ignore[attr-defined]
    east.create_bucket(Bucket=f"plain-{acct}")  # us-east-1 takes no location constraint

    snap = run(aws_spec(moto_url, acct), redactor)
    assert snap.facts["accounts"] == (acct,)
    buckets = by_type(snap, "aws_s3_bucket")
    assert set(buckets) == {f"logs-{acct}", f"plain-{acct}"}
    logs = buckets[f"logs-{acct}"]
    assert logs.tags == {"app": "shop"}
    assert logs.attributes["versioning"] == [{"enabled": True, "mfa_delete": False}]
    assert json.loads(logs.attributes["policy"]) == policy
    enc = logs.attributes["server_side_encryption_configuration"][0]["rule"][0]
    assert enc["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "AES256"
    assert buckets[f"plain-{acct}"].attributes["versioning"] == [{"enabled": False, "mfa_delete": False}]
    assert "policy" not in buckets[f"plain-{acct}"].attributes
    pab = by_type(snap, "aws_s3_bucket_public_access_block")
    assert set(pab) == {f"logs-{acct}"}
    assert pab[f"logs-{acct}"].attributes["restrict_public_buckets"] is False
    assert set(by_type(snap, "aws_s3_bucket_policy")) == {f"logs-{acct}"}
    assert logs.owner == "none" and logs.key == f"arn:aws:s3:::logs-{acct}"
    assert snap.coverage.complete and "aws_s3_bucket" in snap.coverage.listed


def test_sqs_queues_in_two_regions(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    sess = account_session(moto_url, acct)
    for region, name in (("eu-west-1", "orders"), ("us-east-1", "audit.fifo")):
        sqs = sess.client("sqs", endpoint_url=moto_url, region_name=region)  # type: ignore[attr-defined]
        attrs = {"VisibilityTimeout": "45"} if name == "orders" else {"FifoQueue": "true"}
        sqs.create_queue(QueueName=name, Attributes=attrs, tags={"app": "shop"})
    snap = run(aws_spec(moto_url, acct), redactor)
    queues = {r.name: r for r in snap.resources if r.type == "aws_sqs_queue"}
    assert set(queues) == {"orders", "audit.fifo"}
    assert queues["orders"].attributes["visibility_timeout_seconds"] == 45
    assert queues["audit.fifo"].attributes["fifo_queue"] is True
    assert queues["audit.fifo"].key == f"arn:aws:sqs:us-east-1:{acct}:audit.fifo"
    assert queues["audit.fifo"].id == f"https://sqs.us-east-1.amazonaws.com/{acct}/audit.fifo"  # Terraform's id
    assert queues["orders"].tags == {"app": "shop"}


def test_accounts_are_kept_apart(moto_url: str, redactor: Redactor) -> None:
    a, b = new_account(), new_account()
    for acct in (a, b):
        sqs = account_session(moto_url, acct).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
        sqs.create_queue(QueueName=f"q-{acct}")
    names = {r.name for r in run(aws_spec(moto_url, a), redactor).resources if r.type == "aws_sqs_queue"}
    assert names == {f"q-{a}"}


def test_resource_types_include_and_exclude(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    sess = account_session(moto_url, acct)
    sess.client("sqs", endpoint_url=moto_url).create_queue(QueueName="q")  # type: ignore[attr-defined]
    sess.client("s3", endpoint_url=moto_url).create_bucket(  # type: ignore[attr-defined]
        Bucket=f"b-{acct}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    snap = run(aws_spec(moto_url, acct, resource_types={"include": ["aws_s3_*"], "exclude": ["aws_s3_bucket_policy"]}),
               redactor)  # fmt: skip
    assert {r.type for r in snap.resources} <= {t for t in type_info_types() if t.startswith("aws_s3_")}
    assert "aws_sqs_queue" not in snap.coverage.listed and "aws_s3_bucket_policy" not in snap.coverage.listed


def type_info_types() -> set[str]:
    return {t for lst in listers().values() for t in lst.tf_types}


# Faults, injected where botocore lets an event handler answer for the service -----------------------------


def _answer_with_error(code: str, message: str, status: int = 400) -> Callable[..., Any]:
    def handler(**_: Any) -> Any:
        http = botocore.awsrequest.AWSResponse("https://x", status, {}, None)  # type: ignore[attr-defined]
        return http, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}

    return handler


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str | None], Callable[..., Any]]]:
    """{(operation event, region or None): handler}: installed on every client parity makes."""
    import botocore.awsrequest  # noqa: F401

    table: dict[tuple[str, str | None], Callable[..., Any]] = {}
    original = AwsSession.client

    def client(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        for (event, reg), handler in table.items():
            if reg is None or reg == region:
                c.meta.events.register(event, handler, unique_id=f"fault-{event}-{reg}")
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    yield table


def test_access_denied_is_a_gap_not_an_absence(moto_url: str, redactor: Redactor, faults: dict) -> None:  # type: ignore[type-arg]
    acct = new_account()
    account_session(moto_url, acct).client("sqs", endpoint_url=moto_url).create_queue(QueueName="q")  # type: ignore[attr-defined]
    faults[("before-call.sqs.ListQueues", None)] = _answer_with_error("AccessDenied", "not allowed", 403)
    snap = run(aws_spec(moto_url, acct), redactor)
    assert not [r for r in snap.resources if r.type == "aws_sqs_queue"]
    gaps = [g for g in snap.coverage.gaps if g.type == "aws_sqs_queue"]
    assert gaps and all(g.kind == "denied" for g in gaps)
    assert not snap.coverage.covers_type("aws_sqs_queue") and "aws_sqs_queue" not in snap.coverage.listed
    assert snap.coverage.covers_type("aws_s3_bucket")  # the other types were listed


def test_a_failing_region_is_a_gap_for_that_region_only(moto_url: str, redactor: Redactor, faults: dict) -> None:  # type: ignore[type-arg]
    acct = new_account()
    sess = account_session(moto_url, acct)
    sess.client("sqs", endpoint_url=moto_url, region_name="eu-west-1").create_queue(QueueName="ok")  # type: ignore[attr-defined]

    def down(**_: Any) -> Any:
        raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com")

    faults[("before-call.sqs.ListQueues", "us-east-1")] = down
    snap = run(aws_spec(moto_url, acct), redactor)
    assert {r.name for r in snap.resources if r.type == "aws_sqs_queue"} == {"ok"}
    (gap,) = [g for g in snap.coverage.gaps if g.type == "aws_sqs_queue"]
    assert gap.kind == "failed" and gap.scope == "sqs.queues@us-east-1"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def test_throttling_is_retried_then_succeeds(moto_url: str, redactor: Redactor, faults: dict) -> None:  # type: ignore[type-arg]
    """Throttled at the HTTP layer (before-send), so botocore's adaptive retry sees it as AWS would send it."""
    from botocore.awsrequest import AWSResponse

    acct = new_account()
    account_session(moto_url, acct).client("sqs", endpoint_url=moto_url).create_queue(QueueName="q")  # type: ignore[attr-defined]
    calls = {"n": 0}

    def throttle_twice(request: Any, **_: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 2:
            return None  # let the real request through
        body = b'{"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"}'
        headers = {"x-amzn-query-error": "Throttling;Sender", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _Raw(body))

    faults[("before-send.sqs.ListQueues", "eu-west-1")] = throttle_twice
    snap = run(aws_spec(moto_url, acct, regions=["eu-west-1"]), redactor)
    assert calls["n"] == 3
    assert {r.name for r in snap.resources if r.type == "aws_sqs_queue"} == {"q"}
    assert snap.coverage.complete


def test_bad_credentials_are_an_error(moto_url: str, redactor: Redactor) -> None:
    from parity.errors import ParityError

    with pytest.raises(ParityError, match="assume"):
        run(aws_spec("http://127.0.0.1:9", new_account()), redactor)


# Read-only by construction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "allowed"),
    [("ListBuckets", {}, True), ("DescribeInstances", {}, True), ("GetBucketPolicy", {}, True),
     ("CreateBucket", {}, False), ("PutBucketPolicy", {}, False), ("DeleteQueue", {}, False),
     ("GetSecretValue", {}, False), ("GetParameter", {"WithDecryption": True}, False),
     ("GetParameter", {"WithDecryption": False}, True), ("GetObject", {}, False),
     ("GetAuthorizationToken", {}, False), ("AssumeRole", {}, True), ("TagResource", {}, False)],
)  # fmt: skip
def test_guard_rule(operation: str, params: dict[str, Any], allowed: bool) -> None:
    assert guard.is_read(operation, params) is allowed


def test_guarded_client_refuses_a_write_before_sending(moto_url: str) -> None:
    acct = new_account()
    from parity.sources.aws.session import Target

    session = AwsSession(Target(role_arn=f"arn:aws:iam::{acct}:role/parity", endpoint_url=moto_url))
    s3 = session.client("s3", "eu-west-1")
    with pytest.raises(guard.ReadOnlyViolation):
        s3.create_bucket(Bucket=f"x-{acct}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    raw = account_session(moto_url, acct).client("s3", endpoint_url=moto_url)  # type: ignore[attr-defined]
    assert raw.list_buckets()["Buckets"] == []


def test_every_lister_declares_only_reads_and_runs_guarded(moto_url: str, redactor: Redactor) -> None:
    """The meta test over the whole registry: declared calls are reads; every lister runs through the
    guard on an empty account and twice gives the same ids (deterministic)."""
    all_listers = listers()
    assert all_listers
    for lst in all_listers.values():
        assert lst.calls, lst.name
        for action in lst.calls:
            assert guard.action_is_read(action), f"{lst.name}: {action} is not a read"
        for t in lst.types:
            assert t.tf_type.startswith("aws_") and t.description
    acct = new_account()
    first = run(aws_spec(moto_url, acct), redactor)
    second = run(aws_spec(moto_url, acct), redactor)
    assert first.coverage.complete, first.coverage.gaps
    assert [(r.type, r.id) for r in first.resources] == [(r.type, r.id) for r in second.resources]


def test_permissions_command_prints_exactly_the_declared_reads(capsys: pytest.CaptureFixture[str]) -> None:
    from parity.cli import main

    assert main(["permissions"]) == 0
    policy = json.loads(capsys.readouterr().out)
    (stmt,) = policy["Statement"]
    actions = set(stmt["Action"])
    declared = {a for lst in listers().values() for a in lst.calls}
    # who am I, regions, attribution (CloudTrail), last use of privileged grants (service last-accessed)
    base = {"sts:GetCallerIdentity", "ec2:DescribeRegions", "cloudtrail:LookupEvents",
            "iam:GenerateServiceLastAccessedDetails", "iam:GetServiceLastAccessedDetails"}  # fmt: skip
    assert declared <= actions and actions - declared == base
    assert all(guard.action_is_read(a) for a in actions)
    assert main(["types", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["type"] for r in rows} == type_info_types()
    assert all(r["calls"] for r in rows)


def test_types_ignored_whole_are_not_listed(
    moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpired ignore rule for a whole type means its API is never called (cost and noise)."""
    from parity.cli import main

    acct = new_account()
    account_session(moto_url, acct).client("sqs", endpoint_url=moto_url).create_queue(QueueName="q")  # type: ignore[attr-defined]
    cfg = tmp_path / "parity.yaml"
    cfg.write_text(
        "environments:\n  production:\n    sources:\n"
        f"      - {{kind: aws, regions: [eu-west-1], endpoint_url: '{moto_url}',"
        f" role_arn: 'arn:aws:iam::{acct}:role/p', resource_types: {{include: [aws_sqs_queue, aws_s3_bucket]}}}}\n"
        "ignore:\n  - {type: aws_sqs_queue, owner: ops, reason: queues are managed by the platform team,"
        " expires: 2099-01-01}\n"
    )
    calls: list[str] = []
    original = AwsSession.client

    def spy(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        c.meta.events.register("before-call", lambda model, **_: calls.append(model.name), unique_id="spy")
        return c

    monkeypatch.setattr(AwsSession, "client", spy)  # observes the real clients' calls
    assert main(["scan", "-c", str(cfg), "--format", "json"]) in (0, 2)
    capsys.readouterr()
    assert "ListBuckets" in calls and "ListQueues" not in calls


def test_more_than_a_thousand_queues_are_all_listed(moto_url: str, redactor: Redactor) -> None:
    """ListQueues answers 1,000 queues and no NextToken unless MaxResults is given."""
    acct = new_account()
    sqs = account_session(moto_url, acct).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
    for i in range(1005):
        sqs.create_queue(QueueName=f"q{i:04d}")
    snap = run(aws_spec(moto_url, acct, regions=["eu-west-1"], resource_types={"include": ["aws_sqs_queue"]}),
               redactor)  # fmt: skip
    assert len([r for r in snap.resources if r.type == "aws_sqs_queue"]) == 1005
