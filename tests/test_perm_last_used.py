"""Service last-accessed details for elevated grants: recorded responses through botocore's Stubber on a
guarded IAM client (moto does not implement GenerateServiceLastAccessedDetails), then the finding."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from conftest import account_session, new_account
from parity.compare import Inventory, Rules
from parity.config import parse_config
from parity.model import Finding
from parity.permissions import analyse_permissions
from parity.redact import Redactor
from parity.sources.aws.last_accessed import LastAccess, LastAccessFailed, last_accessed
from parity.sources.aws.session import AwsSession, Target
from test_aws_source import aws_spec, run

ARN = "arn:aws:iam::123456789012:user/dev-alice"
CREATED = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
S3_USE = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
IAM_USE = dt.datetime(2026, 11, 24, 17, 5, tzinfo=dt.UTC)
JOB = "8a3c0b1e-5f2d-4c6a-9e7b-1d2f3a4b5c6d"  # IAM's job ids are UUIDs (36 characters)


def page(status: str, services: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, Any]:
    out = {"JobStatus": status, "JobCreationDate": CREATED, "JobCompletionDate": CREATED,
           "ServicesLastAccessed": services or []}  # fmt: skip
    return {**out, **kw}


USED = [
    {"ServiceName": "Amazon S3", "ServiceNamespace": "s3", "LastAuthenticated": S3_USE,
     "LastAuthenticatedEntity": ARN, "TotalAuthenticatedEntities": 1},
    {"ServiceName": "AWS Identity and Access Management", "ServiceNamespace": "iam", "LastAuthenticated": IAM_USE,
     "LastAuthenticatedEntity": ARN, "TotalAuthenticatedEntities": 1},
    {"ServiceName": "Amazon EC2", "ServiceNamespace": "ec2", "TotalAuthenticatedEntities": 0},
]  # fmt: skip


@pytest.fixture
def iam(moto_url: str) -> Any:
    """A guarded IAM client (made by parity's session; the Stubber answers before any request is sent)."""
    return AwsSession(Target(endpoint_url=moto_url)).client("iam", "us-east-1")


def stubbed(iam: Any, pages: list[dict[str, Any]], arn: str = ARN, job: str = JOB) -> Stubber:
    stub = Stubber(iam)
    stub.add_response("generate_service_last_accessed_details", {"JobId": job}, {"Arn": arn})
    for p in pages:
        stub.add_response("get_service_last_accessed_details", p, {"JobId": job})
    stub.activate()
    return stub


def test_completed_gives_the_latest_use_of_any_service(iam: Any) -> None:
    sleeps: list[float] = []
    with stubbed(iam, [page("COMPLETED", USED)]) as stub:
        got = last_accessed(iam, ARN, sleeper=sleeps.append)
        stub.assert_no_pending_responses()
    assert got == LastAccess(IAM_USE, "iam", ARN) and sleeps == []


def test_in_progress_is_polled_then_completed(iam: Any) -> None:
    sleeps: list[float] = []
    with stubbed(iam, [page("IN_PROGRESS"), page("IN_PROGRESS"), page("COMPLETED", USED[:1])]) as stub:
        got = last_accessed(iam, ARN, sleep=0.01, sleeper=sleeps.append)
        stub.assert_no_pending_responses()
    assert got.when == S3_USE and got.service == "s3" and sleeps == [0.01, 0.01]


def test_truncated_answers_are_followed(iam: Any) -> None:
    pages = [page("COMPLETED", USED[:1], IsTruncated=True, Marker="m1"), page("COMPLETED", USED[1:])]
    stub = Stubber(iam)
    stub.add_response("generate_service_last_accessed_details", {"JobId": JOB}, {"Arn": ARN})
    stub.add_response("get_service_last_accessed_details", pages[0], {"JobId": JOB})
    stub.add_response("get_service_last_accessed_details", pages[1], {"JobId": JOB, "Marker": "m1"})
    with stub:
        assert last_accessed(iam, ARN, sleeper=lambda _: None).when == IAM_USE


def test_no_service_used_is_known_none(iam: Any) -> None:
    with stubbed(iam, [page("COMPLETED", USED[2:])]):
        assert last_accessed(iam, ARN, sleeper=lambda _: None) == LastAccess(None, "", ARN)


def test_failed_job_is_unknown(iam: Any) -> None:
    failed = page("FAILED", Error={"Message": "internal error", "Code": "InternalFailure"})
    with stubbed(iam, [failed]), pytest.raises(LastAccessFailed, match="internal error"):
        last_accessed(iam, ARN, sleeper=lambda _: None)


def test_a_job_still_running_is_given_up_after_a_bounded_number_of_polls(iam: Any) -> None:
    sleeps: list[float] = []
    with stubbed(iam, [page("IN_PROGRESS")] * 3), pytest.raises(LastAccessFailed, match="after 3 attempt"):
        last_accessed(iam, ARN, attempts=3, sleeper=sleeps.append)
    assert len(sleeps) == 2


def test_denied_is_unknown(iam: Any) -> None:
    stub = Stubber(iam)
    stub.add_client_error("generate_service_last_accessed_details", "AccessDenied", "not allowed", 403)
    with stub, pytest.raises(LastAccessFailed, match="AccessDenied"):
        last_accessed(iam, ARN, sleeper=lambda _: None)


# The analysis: asked only for principals holding an elevated grant, attached to the finding --------------

CONFIG = """
environments:
  staging: {{sources: [{{kind: aws, name: aws, endpoint_url: "{url}", role_arn: "arn:aws:iam::{a}:role/parity"}}]}}
promotion: [staging]
rules:
  - {{rule: max_grant_age, environments: [staging], days: 7}}
"""


@pytest.fixture(scope="module")
def estate(moto_url: str) -> dict[str, Any]:
    acct = new_account()
    raw = account_session(moto_url, acct).client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]
    admin = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    read = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                               "Resource": "*"}]})  # fmt: skip
    for user, doc in (("dev-alice", admin), ("dev-bob", admin), ("reader", read)):
        raw.create_user(UserName=user)
        raw.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=doc)
    spec = aws_spec(moto_url, acct, regions=["eu-west-1"], resource_types={"include": ["aws_iam_*"]})
    snap = run(spec, Redactor(b"parity-tests-fixed-key-0123456789"), "staging")
    cfg = parse_config(CONFIG.format(url=moto_url, a=acct), "parity.yaml")
    return {"acct": acct, "invs": {"staging": Inventory("staging", (snap,))}, "config": cfg}


def analyse(estate: dict[str, Any], lookup: Any = None, today: dt.date | None = None) -> list[Finding]:
    cfg = estate["config"]
    rules = Rules(tokens=cfg.all_tokens(), promotion=tuple(cfg.promotion))
    return analyse_permissions(estate["invs"], cfg, rules, [], today, last_accessed=lookup)


def by_user(found: list[Finding], kind: str) -> dict[str, Finding]:
    return {f.key.rsplit("/", 1)[-1]: f for f in found if f.kind == kind}


def test_elevated_grant_carries_the_last_use(estate: dict[str, Any], iam: Any) -> None:
    asked: list[tuple[str, str]] = []

    def lookup(env: str, arn: str) -> LastAccess:
        asked.append((env, arn))
        if arn.endswith("/dev-bob"):
            with stubbed(iam, [page("FAILED", Error={"Message": "report failed", "Code": "X"})], arn=arn):
                return last_accessed(iam, arn, sleeper=lambda _: None)
        with stubbed(iam, [page("IN_PROGRESS"), page("COMPLETED", USED)], arn=arn):
            return last_accessed(iam, arn, sleeper=lambda _: None)

    later = dt.date.today() + dt.timedelta(days=30)
    found = analyse(estate, lookup, later)
    acct = estate["acct"]
    # only the principals holding an elevated grant are asked, once each (reader holds s3:GetObject only)
    assert sorted(asked) == [("staging", f"arn:aws:iam::{acct}:user/dev-alice"),
                             ("staging", f"arn:aws:iam::{acct}:user/dev-bob")]  # fmt: skip
    elevated = by_user(found, "elevated_grant")
    assert set(elevated) == {"dev-alice", "dev-bob"}
    alice = {c.path: c.right for c in elevated["dev-alice"].changes}
    assert alice["last_accessed"] == "2026-11-24T17:05:00Z" and alice["last_accessed_service"] == "iam"
    assert "last service use 2026-11-24T17:05:00Z (iam)" in elevated["dev-alice"].message
    bob = elevated["dev-bob"]
    assert "last_accessed" not in {c.path for c in bob.changes} and "last use unknown" in bob.message
    assert any(n.startswith("last use unknown: service last-accessed report failed") for n in bob.notes)
    # the max_grant_age violation carries it too
    aged = by_user(found, "policy_violation")
    assert {c.path: c.right for c in aged["dev-alice"].changes}["last_accessed"] == "2026-11-24T17:05:00Z"
    assert any("last use unknown" in n for n in aged["dev-bob"].notes)


def test_the_number_of_principals_asked_is_bounded(estate: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import parity.permissions as perms

    monkeypatch.setattr(perms, "MAX_PRINCIPALS", 1)
    asked: list[str] = []

    def lookup(env: str, arn: str) -> LastAccess:
        asked.append(arn)
        return LastAccess(None, "", arn)

    elevated = by_user(analyse(estate, lookup), "elevated_grant")
    assert len(asked) == 1
    notes = [n for f in elevated.values() for n in f.notes]
    assert any("not asked (at most 1 principals per scan)" in n for n in notes)
    assert any("no service used in IAM's tracking period" in n for n in notes)


def test_default_lookup_degrades_to_unknown_against_moto(estate: dict[str, Any]) -> None:
    """The live path (the environment's aws source, guarded session): moto lacks the call -> unknown."""
    elevated = by_user(analyse(estate), "elevated_grant")
    assert set(elevated) == {"dev-alice", "dev-bob"}
    for f in elevated.values():
        assert "last use unknown" in f.message and any(n.startswith("last use unknown: ") for n in f.notes)
