"""Attribution from CloudTrail: a scan of a moto account whose queue was changed by hand and which holds a
queue created outside Terraform. moto 5 does not implement cloudtrail:LookupEvents (its server answers 500
NotImplemented), so the guarded cloudtrail client answers from recorded responses through botocore's Stubber:
everything else (listing, comparing, storing) is real."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from conftest import account_session, new_account
from parity.cli import main
from parity.sources.aws.cloudtrail import TrailEvent
from parity.sources.aws.session import AwsSession

NOW = dt.datetime.now(dt.UTC)


def trail_event(
    name: str, ident: dict[str, Any], agent: str, ip: str, ago: dt.timedelta, read_only: bool = False
) -> dict[str, Any]:
    """A LookupEvents ``Events[]`` item as CloudTrail returns it (CloudTrailEvent is a JSON string)."""
    when = NOW - ago
    body = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "sqs.amazonaws.com", "eventName": name, "awsRegion": "eu-west-1", "sourceIPAddress": ip,
            "userAgent": agent, "readOnly": read_only, "eventType": "AwsApiCall",
            "eventID": f"id-{name}-{ip}"}  # fmt: skip
    user = ident.get("userName") or ident.get("arn", "").rsplit("/", 1)[-1]
    return {"EventId": body["eventID"], "EventName": name, "ReadOnly": str(read_only).lower(), "EventTime": when,
            "EventSource": "sqs.amazonaws.com", "Username": user, "CloudTrailEvent": json.dumps(body)}  # fmt: skip


def assumed(acct: str, role: str, session: str) -> dict[str, Any]:
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLE:{session}",
            "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{session}", "accountId": acct,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{acct}:role/{role}",
                                                 "userName": role}}}  # fmt: skip


def lookup(arn: str) -> dict[str, Any]:
    return {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": arn}], "StartTime": ANY,
            "EndTime": ANY, "MaxResults": 50}  # fmt: skip


@pytest.fixture
def account(moto_url: str, tmp_path: Path) -> tuple[str, Path]:
    acct = new_account()
    sqs = account_session(moto_url, acct).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
    sqs.create_queue(QueueName="orders-prod", Attributes={"VisibilityTimeout": "30"})  # code says 120
    sqs.create_queue(QueueName="debug-by-hand")
    attrs = {"id": f"https://sqs.eu-west-1.amazonaws.com/{acct}/orders-prod", "name": "orders-prod",
             "visibility_timeout_seconds": 120}  # fmt: skip
    instance = {"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}
    state = {"version": 4, "terraform_version": "1.6.0", "serial": 1, "lineage": "x", "outputs": {},
             "resources": [{"mode": "managed", "type": "aws_sqs_queue", "name": "orders", "provider": "aws",
                            "instances": [instance]}]}  # fmt: skip
    (tmp_path / "production.tfstate").write_text(json.dumps(state))
    (tmp_path / "parity.yaml").write_text(
        f"store: sqlite:///{tmp_path / 'p.db'}\n"
        "environments:\n  production:\n"
        "    deploy_roles: ['arn:aws:iam::*:role/ci-deploy']\n"
        "    sources:\n      - {kind: terraform-state, path: production.tfstate}\n"
        f"      - {{kind: aws, regions: [eu-west-1], endpoint_url: '{moto_url}',\n"
        f"         role_arn: 'arn:aws:iam::{acct}:role/parity', resource_types: {{include: [aws_sqs_queue]}}}}\n"
        "attribution: {lookback: 7d, max_lookups: 10}\n"
    )
    return acct, tmp_path / "parity.yaml"


@dataclass
class Recorded:
    responses: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    stubbers: list[Stubber] = field(default_factory=list)


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    """The cloudtrail client parity makes (guarded, as in production) answers from a Stubber."""
    rec = Recorded()
    stubbers, responses = rec.stubbers, rec.responses
    original = AwsSession.client

    def client(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        if service == "cloudtrail" and not stubbers:
            stub = Stubber(c)
            for kind, payload, params in responses:
                if kind == "ok":
                    stub.add_response("lookup_events", payload, params)
                else:
                    stub.add_client_error("lookup_events", payload, "denied", 400, expected_params=params)
            stub.activate()
            stubbers.append(stub)
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    yield rec


def scan(capsys: pytest.CaptureFixture[str], cfg: Path) -> dict[str, Any]:
    code = main(["scan", "-c", str(cfg), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_who_changed_what_and_out_of_band(
    account: tuple[str, Path], stubbed: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    acct, cfg = account
    orders, debug = (f"arn:aws:sqs:eu-west-1:{acct}:{q}" for q in ("orders-prod", "debug-by-hand"))
    console = "Mozilla/5.0 (X11; Linux x86_64) console.amazonaws.com"
    terraform = "APN/1.0 HashiCorp/1.0 Terraform/1.6.0 (+https://www.terraform.io) terraform-provider-aws/5.31.0"
    stubbed.responses += [
        ("ok", {"Events": [
            trail_event("GetQueueAttributes", assumed(acct, "Admin", "maria"), console, "198.51.100.7",
                        dt.timedelta(hours=1), read_only=True),
            trail_event("SetQueueAttributes", assumed(acct, "Admin", "maria"), console, "198.51.100.7",
                        dt.timedelta(days=1)),
            trail_event("SetQueueAttributes", assumed(acct, "ci-deploy", "gh-run-41"), terraform, "203.0.113.9",
                        dt.timedelta(days=5)),
        ]}, lookup(orders)),
        ("ok", {"Events": [trail_event("CreateQueue", assumed(acct, "ci-deploy", "gh-run-42"), terraform,
                                       "203.0.113.9", dt.timedelta(days=2))]}, lookup(debug)),
    ]  # fmt: skip
    doc = scan(capsys, cfg)
    (stub,) = stubbed.stubbers
    by = {(f["kind"], f["resources"]["production"].rsplit("/", 1)[-1]): f for f in doc["findings"]}
    changed = by[("changed", "orders-prod")]["attribution"]
    assert changed["principal"] == f"arn:aws:sts::{acct}:assumed-role/Admin/maria"
    assert (changed["role"], changed["user"], changed["event"]) == (f"arn:aws:iam::{acct}:role/Admin", "maria",
                                                                    "SetQueueAttributes")  # fmt: skip
    assert (changed["via"], changed["source_ip"], changed["deploy_role"], changed["out_of_band"]) == (
        "console",
        "198.51.100.7",
        False,
        True,
    )
    assert any("out-of-band" in n and "console" in n for n in by[("changed", "orders-prod")]["notes"])
    made = by[("unmanaged", "debug-by-hand")]["attribution"]
    assert (made["via"], made["deploy_role"], made["out_of_band"]) == ("terraform", True, False)

    # the next scan keeps the stored attribution without asking CloudTrail again (no responses are left)
    stub.assert_no_pending_responses()
    again = scan(capsys, cfg)
    kept = {f["id"]: f["attribution"] for f in again["findings"] if f["attribution"]}
    assert kept[by[("changed", "orders-prod")]["id"]] == changed
    # and history shows it
    assert main(["history", "--findings", "-c", str(cfg), "--format", "json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert any(f["attribution"] == changed for f in stored)
    # and SARIF carries it too, with the finding's notes (code-scanning services show result properties)
    assert main(["scan", "-c", str(cfg), "--format", "sarif"]) == 2
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    sarif = {r["properties"]["id"]: r["properties"] for r in results}
    props = sarif[by[("changed", "orders-prod")]["id"]]
    assert props["attribution"] == changed and any("out-of-band" in n for n in props["notes"])


def test_a_denied_lookup_is_a_note(
    account: tuple[str, Path], stubbed: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    acct, cfg = account
    stubbed.responses.append(("error", "AccessDeniedException", lookup(f"arn:aws:sqs:eu-west-1:{acct}:orders-prod")))
    doc = scan(capsys, cfg)
    assert all(f["attribution"] is None for f in doc["findings"])
    (note,) = [n for n in doc["notes"] if n.startswith("attribution:")]
    assert note.startswith("attribution: CloudTrail lookup failed in production") and "AccessDeniedException" in note
    stubbed.stubbers[0].assert_no_pending_responses()  # one call: a failure stops the lookups in that account


def test_the_lookup_budget_is_kept(
    account: tuple[str, Path], stubbed: Recorded, capsys: pytest.CaptureFixture[str]
) -> None:
    acct, cfg = account
    cfg.write_text(cfg.read_text().replace("max_lookups: 10", "max_lookups: 1"))
    stubbed.responses.append(("ok", {"Events": []}, lookup(f"arn:aws:sqs:eu-west-1:{acct}:orders-prod")))
    doc = scan(capsys, cfg)
    assert all(f["attribution"] is None for f in doc["findings"])
    # the queue's name (second try) and the other finding were not asked about
    assert "attribution: 2 finding(s) not (fully) looked up (attribution.max_lookups 1)" in doc["notes"]
    stubbed.stubbers[0].assert_no_pending_responses()


def test_how_a_change_was_made() -> None:
    from parity.attribution import attribution_of, via

    def ev(agent: str, kind: str = "IAMUser", role: str = "") -> TrailEvent:
        return TrailEvent("e", "PutX", NOW, "arn:aws:iam::1:user/u", kind, "u", role, "192.0.2.1", agent)

    assert via(ev("aws-cli/2.15.0 Python/3.11.6 Linux/6.5")) == "cli"
    assert via(ev("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux")) == "sdk"
    assert via(ev("signin.amazonaws.com")) == "console"
    assert via(ev("cloudformation.amazonaws.com", "AWSService")) == "cloudformation"
    assert via(ev("lambda.amazonaws.com", "AWSService")) == "aws-service"
    assert via(ev("curl/8.5")) == "other"
    a = attribution_of(ev("aws-cli/2"), [])
    assert a.out_of_band is None and not a.deploy_role  # nothing declared: no judgement
    a = attribution_of(ev("aws-cli/2", "AssumedRole", "arn:aws:iam::1:role/ci-deploy"), ["*:role/ci-deploy"])
    assert a.deploy_role and a.out_of_band is False
