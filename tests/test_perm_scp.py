"""SCPs from AWS Organizations in moto's server (over real HTTP), applied by the permission analysis.

One organisation: a management account, OUs ``staging`` and ``production`` under the root, one member
account in each; ``deny-iam`` (Deny ``iam:*``) is attached to the production OU only, ``FullAWSAccess``
everywhere (root, OUs, accounts) as AWS does. Both members hold the same human ``admin`` role (``*`` on
``*``).

moto answers a member account's ``ListPolicies``/``ListParents`` from that member's own (empty) backend,
where AWS would answer a delegated administrator from the organisation's data and deny anyone else. So
the readable case reads the organisation as a delegated administrator would: the organizations client
of the scanned account signs with the management account's credentials. The denied case answers
``ListRoots`` with ``AccessDeniedException``, as AWS answers a member account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.awsrequest
import pytest

from conftest import account_session, new_account
from parity.compare import Inventory, Rules
from parity.config import parse_config
from parity.model import Finding, Snapshot
from parity.permissions import all_permissions, analyse_permissions, default_catalogue
from parity.redact import Redactor
from parity.sources.aws import guard
from parity.sources.aws.last_accessed import LastAccess, LastAccessFailed
from parity.sources.aws.session import AwsSession
from test_aws_source import aws_spec, run

SCP = "SERVICE_CONTROL_POLICY"
TYPES = {"include": ["aws_iam_*", "aws_organizations_*"]}
DENY_IAM = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}
CONFIG = """
environments:
  staging: {{sources: [{{kind: aws, endpoint_url: "{url}", role_arn: "arn:aws:iam::{s}:role/parity"}}]}}
  production: {{sources: [{{kind: aws, endpoint_url: "{url}", role_arn: "arn:aws:iam::{p}:role/parity"}}]}}
promotion: [staging, production]
"""


def no_lookup(env: str, arn: str) -> LastAccess:
    raise LastAccessFailed("not asked in this test")


def admin_role(moto_url: str, acct: str) -> None:
    iam = account_session(moto_url, acct).client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}}]}  # fmt: skip
    iam.create_role(RoleName="admin", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))  # fmt: skip


@pytest.fixture(scope="module")
def org(moto_url: str) -> dict[str, Any]:
    mgmt = new_account()
    sess = account_session(moto_url, mgmt, "us-east-1")
    o = sess.client("organizations", endpoint_url=moto_url)  # type: ignore[attr-defined]
    o.create_organization(FeatureSet="ALL")
    root = o.list_roots()["Roots"][0]["Id"]
    o.enable_policy_type(RootId=root, PolicyType=SCP)
    full = next(p["Id"] for p in o.list_policies(Filter=SCP)["Policies"] if p["Name"] == "FullAWSAccess")
    deny = o.create_policy(Content=json.dumps(DENY_IAM), Description="no IAM changes", Name="deny-iam",
                           Type=SCP)["Policy"]["PolicySummary"]["Id"]  # fmt: skip
    out: dict[str, Any] = {"mgmt": mgmt, "sess": sess, "root": root, "full": full, "deny": deny, "ou": {}}
    for env in ("staging", "production"):
        ou = o.create_organizational_unit(ParentId=root, Name=env)["OrganizationalUnit"]["Id"]
        o.attach_policy(PolicyId=full, TargetId=ou)  # AWS attaches FullAWSAccess to every new OU
        acct = o.create_account(Email=f"{env}@example.com", AccountName=env)["CreateAccountStatus"]["AccountId"]
        o.move_account(AccountId=acct, SourceParentId=root, DestinationParentId=ou)
        admin_role(moto_url, acct)
        out[env], out["ou"][env] = acct, ou
    o.attach_policy(PolicyId=deny, TargetId=out["ou"]["production"])
    return out


@pytest.fixture
def delegated(moto_url: str, org: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """parity's organizations clients read the organisation's data (as a delegated administrator would)."""
    original = AwsSession.client

    def client(self: AwsSession, service: str, region: str) -> Any:
        if service == "organizations":
            return guard.install(org["sess"].client("organizations", endpoint_url=moto_url, region_name=region))
        return original(self, service, region)

    monkeypatch.setattr(AwsSession, "client", client)
    yield


def scan(moto_url: str, acct: str, env: str) -> Snapshot:
    return run(aws_spec(moto_url, acct, regions=["eu-west-1"], resource_types=TYPES),
               Redactor(b"parity-tests-fixed-key-0123456789"), env)  # fmt: skip


def analyse(moto_url: str, org: dict[str, Any], snaps: dict[str, Snapshot]) -> tuple[list[Finding], Any]:
    cfg = parse_config(CONFIG.format(url=moto_url, s=org["staging"], p=org["production"]), "parity.yaml")
    rules = Rules(tokens=cfg.all_tokens(), promotion=tuple(cfg.promotion))
    invs = {env: Inventory(env, (snap,)) for env, snap in snaps.items()}
    found = analyse_permissions(invs, cfg, rules, [("staging", "production")], last_accessed=no_lookup)
    return found, all_permissions(invs, rules, default_catalogue())


def test_scps_on_the_path_are_listed_with_their_levels(moto_url: str, org: dict[str, Any], delegated: None) -> None:
    snap = scan(moto_url, org["production"], "production")
    assert snap.coverage.complete, snap.coverage.gaps
    assert {"aws_organizations_policy", "aws_organizations_policy_attachment"} <= set(snap.coverage.listed)
    pols = {r.id: r for r in snap.resources if r.type == "aws_organizations_policy"}
    assert set(pols) == {org["full"], org["deny"]}
    assert pols[org["full"]].attributes["levels"] == [0, 1, 2]  # root, production OU, the account
    deny = pols[org["deny"]].attributes
    assert deny["levels"] == [1] and deny["level"] == 1 and deny["name"] == "deny-iam"
    assert json.loads(deny["content"]) == DENY_IAM and deny["type"] == SCP
    assert pols[org["full"]].owner == "aws-managed"
    attachments = {r.id for r in snap.resources if r.type == "aws_organizations_policy_attachment"}
    ou = org["ou"]["production"]
    assert attachments == {f"{org['root']}:{org['full']}", f"{ou}:{org['full']}", f"{ou}:{org['deny']}",
                           f"{org['production']}:{org['full']}"}  # fmt: skip
    staging = scan(moto_url, org["staging"], "staging")
    assert {r.id for r in staging.resources if r.type == "aws_organizations_policy"} == {org["full"]}


def test_scp_removes_iam_from_the_admin_role_and_gives_the_gap(
    moto_url: str, org: dict[str, Any], delegated: None
) -> None:
    snaps = {env: scan(moto_url, org[env], env) for env in ("staging", "production")}
    found, envs = analyse(moto_url, org, snaps)
    cat = default_catalogue()
    iam = set(cat.match("iam:*"))
    (prod,) = envs["production"].by_name("admin")
    (stg,) = envs["staging"].by_name("admin")
    assert len(prod.principal.scps) == 3  # root, OU, account
    assert not {a for a in prod.allowed() if a.startswith("iam:")}
    assert iam <= stg.allowed()
    assert prod.allowed() == stg.allowed() - iam
    (gap,) = [f for f in found if f.kind == "permission_gap" and f.key.endswith("role/admin")]
    assert gap.detail == "wider-in:staging" and gap.severity == "critical"  # iam Permissions management
    added = {a.strip().lower() for c in gap.changes for line in c.left or [] for a in line.split(" on ")[0].split(",")}
    # and "*": staging's admin may also do actions the catalogue does not know, production's may not
    assert added == iam | {"*"}
    assert not [n for f in found for n in f.notes if "SCP" in n]  # both layers were read


def test_management_account_gets_no_scps(moto_url: str, org: dict[str, Any], delegated: None) -> None:
    snap = scan(moto_url, org["mgmt"], "production")  # SCPs never limit the management account
    assert snap.coverage.complete and "aws_organizations_policy" in snap.coverage.listed
    assert not [r for r in snap.resources if r.type.startswith("aws_organizations_")]


def test_not_in_an_organisation_is_no_gap(moto_url: str) -> None:
    snap = scan(moto_url, new_account(), "staging")
    assert snap.coverage.complete and "aws_organizations_policy" in snap.coverage.listed
    assert not [r for r in snap.resources if r.type.startswith("aws_organizations_")]


def _denied(**_: Any) -> Any:
    http = botocore.awsrequest.AWSResponse("https://x", 400, {}, None)  # type: ignore[attr-defined]
    return http, {"Error": {"Code": "AccessDeniedException", "Message": "You don't have permissions to access "
                            "this resource."}, "ResponseMetadata": {"HTTPStatusCode": 400}}  # fmt: skip


def test_member_account_that_cannot_read_policies_is_a_gap_and_a_note(
    moto_url: str, org: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = AwsSession.client

    def client(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        if service == "organizations":
            c.meta.events.register("before-call.organizations.ListRoots", _denied, unique_id="denied")
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    snaps = {env: scan(moto_url, org[env], env) for env in ("staging", "production")}
    prod = snaps["production"]
    gaps = {g.type: g for g in prod.coverage.gaps}
    assert set(gaps) == {"aws_organizations_policy", "aws_organizations_policy_attachment"}
    assert gaps["aws_organizations_policy"].kind == "denied"
    assert gaps["aws_organizations_policy"].scope == "organizations.scps@global"
    assert not [r for r in prod.resources if r.type.startswith("aws_organizations_")]
    found, envs = analyse(moto_url, org, snaps)
    assert envs["production"].scp_note.startswith("SCPs not checked in production (denied: AccessDeniedException")
    # the admin role holds * on * outside code: an elevated grant in each environment, noted
    elevated = {f.environments[0]: f for f in found if f.kind == "elevated_grant"}
    assert set(elevated) == {"staging", "production"}
    for f in elevated.values():
        assert [n for n in f.notes if n.startswith("SCPs not checked in " + f.environments[0])]
    # neither side's SCPs were read: no iam gap is drawn from SCPs
    assert not [f for f in found if f.kind == "permission_gap" and f.key.endswith("role/admin")]


def test_scps_not_selected_are_noted(moto_url: str, org: dict[str, Any]) -> None:
    snap = run(aws_spec(moto_url, org["production"], regions=["eu-west-1"], resource_types={"include": ["aws_iam_*"]}),
               Redactor(b"parity-tests-fixed-key-0123456789"), "production")  # fmt: skip
    _, envs = analyse(moto_url, org, {"production": snap})
    assert "aws_organizations_policy not listed" in envs["production"].scp_note
