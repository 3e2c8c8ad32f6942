"""IAM types against moto's server: what parity lists is what was created, with Terraform's ids; the real
Terraform states of the corpus, recreated in a fresh account, compare clean code-vs-live (ids through
``native_id`` for the attachments, every ``compared`` attribute equal)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conftest import CORPUS, account_session, new_account
from parity.compare import Inventory, Rules, compare_code_live
from parity.config import TerraformStateSource
from parity.model import Snapshot
from parity.normalize import canonicalize
from parity.redact import Redactor
from parity.registry import CollectContext, type_info
from parity.sources.aws.types.iam import policy_json
from parity.sources.terraform.state import collect_state
from test_aws_source import aws_spec, by_type, run

STATES = CORPUS / "terraform-states"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}  # fmt: skip
DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
DOC2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def iam_client(moto_url: str, acct: str) -> Any:
    return account_session(moto_url, acct).client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]


def iam_only(moto_url: str, acct: str) -> Any:
    return aws_spec(moto_url, acct, regions=["eu-west-1"], resource_types={"include": ["aws_iam_*"]})  # global


def test_principals_policies_and_their_children(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    iam = iam_client(moto_url, acct)
    pol = iam.create_policy(PolicyName="shop-prod-read", Path="/app/", PolicyDocument=json.dumps(DOC),
                            Tags=[{"Key": "team", "Value": "shop"}])["Policy"]["Arn"]  # fmt: skip
    iam.create_policy_version(PolicyArn=pol, PolicyDocument=json.dumps(DOC2), SetAsDefault=True)
    iam.create_role(RoleName="shop-prod-app", Path="/svc/", AssumeRolePolicyDocument=json.dumps(TRUST),
                    MaxSessionDuration=7200, Description="app role", PermissionsBoundary=pol,
                    Tags=[{"Key": "app", "Value": "shop"}])  # fmt: skip
    iam.put_role_policy(RoleName="shop-prod-app", PolicyName="inline-read", PolicyDocument=json.dumps(DOC))
    iam.attach_role_policy(RoleName="shop-prod-app", PolicyArn=pol)
    iam.create_user(UserName="alice", Path="/people/", Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "s"}])
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="alice", PolicyName="own", PolicyDocument=json.dumps(DOC))
    iam.attach_user_policy(UserName="bob", PolicyArn=pol)
    iam.create_group(GroupName="devs", Path="/teams/")
    iam.create_group(GroupName="nobody")
    for u in ("bob", "alice"):
        iam.add_user_to_group(GroupName="devs", UserName=u)
    iam.put_group_policy(GroupName="devs", PolicyName="g", PolicyDocument=json.dumps(DOC2))
    iam.attach_group_policy(GroupName="devs", PolicyArn=pol)
    slr = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]

    snap = run(iam_only(moto_url, acct), redactor)
    assert snap.coverage.complete, snap.coverage.gaps
    roles = by_type(snap, "aws_iam_role")
    assert set(roles) == {"shop-prod-app", slr["RoleName"]}
    app = roles["shop-prod-app"]
    assert app.key == f"arn:aws:iam::{acct}:role/svc/shop-prod-app" and app.owner == "none"
    a = app.attributes
    assert json.loads(a["assume_role_policy"]) == TRUST
    assert (a["max_session_duration"], a["description"], a["permissions_boundary"]) == (7200, "app role", pol)
    assert a["tags"] == {"app": "shop"} and a["path"] == "/svc/" and a["managed_policy_arns"] == [pol]
    assert roles[slr["RoleName"]].owner == "aws-managed"

    (policy,) = by_type(snap, "aws_iam_policy").values()
    assert policy.id == pol == f"arn:aws:iam::{acct}:policy/app/shop-prod-read" and policy.name == "shop-prod-read"
    assert json.loads(policy.attributes["policy"]) == DOC2  # the default version, not the first
    assert policy.tags == {"team": "shop"}

    users = by_type(snap, "aws_iam_user")
    assert set(users) == {"alice", "bob"} and users["alice"].attributes["path"] == "/people/"
    assert users["alice"].owner == "cloudformation" and users["bob"].owner == "none"
    groups = by_type(snap, "aws_iam_group")
    assert set(groups) == {"devs", "nobody"} and groups["devs"].attributes["path"] == "/teams/"
    (membership,) = by_type(snap, "aws_iam_group_membership").values()
    assert membership.id == "devs" and membership.attributes == {"group": "devs", "users": ["alice", "bob"]}

    inline = {t: by_type(snap, f"aws_iam_{t}_policy") for t in ("role", "user", "group")}
    assert set(inline["role"]) == {"shop-prod-app:inline-read"}
    assert set(inline["user"]) == {"alice:own"}
    assert json.loads(inline["group"]["devs:g"].attributes["policy"]) == DOC2
    assert inline["role"]["shop-prod-app:inline-read"].attributes["role"] == "shop-prod-app"
    assert "arn" not in inline["user"]["alice:own"].attributes  # no invented ARN for objects without one
    att = {t: by_type(snap, f"aws_iam_{t}_policy_attachment") for t in ("role", "user", "group")}
    assert set(att["role"]) == {f"shop-prod-app/{pol}"}
    assert set(att["user"]) == {f"bob/{pol}"}
    assert att["group"][f"devs/{pol}"].attributes == {"group": "devs", "policy_arn": pol}
    slr_children = [r for r in snap.resources if r.key.startswith(slr["Arn"] + "/")]
    assert all(r.owner == "aws-managed" for r in slr_children)


def test_access_keys_are_metadata_only(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    iam = iam_client(moto_url, acct)
    iam.create_user(UserName="ci")
    made = [iam.create_access_key(UserName="ci")["AccessKey"] for _ in range(2)]
    iam.update_access_key(UserName="ci", AccessKeyId=made[1]["AccessKeyId"], Status="Inactive")
    snap = run(iam_only(moto_url, acct), redactor)
    keys = by_type(snap, "aws_iam_access_key")
    assert set(keys) == {k["AccessKeyId"] for k in made}
    assert keys[made[1]["AccessKeyId"]].attributes["status"] == "Inactive"
    assert keys[made[0]["AccessKeyId"]].attributes["user"] == "ci"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", keys[made[0]["AccessKeyId"]].attributes["create_date"])
    text = repr(snap.resources)
    assert not any(k["SecretAccessKey"] in text for k in made)


def test_instance_profiles(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    iam = iam_client(moto_url, acct)
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_instance_profile(InstanceProfileName="web", Path="/ec2/", Tags=[{"Key": "app", "Value": "web"}])
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    iam.create_instance_profile(InstanceProfileName="spare")
    profiles = by_type(run(iam_only(moto_url, acct), redactor), "aws_iam_instance_profile")
    assert set(profiles) == {"web", "spare"}
    assert profiles["web"].attributes["role"] == "web" and profiles["web"].tags == {"app": "web"}
    assert profiles["web"].key == f"arn:aws:iam::{acct}:instance-profile/ec2/web"
    assert "role" not in profiles["spare"].attributes


def test_policy_documents_url_encoded_or_parsed() -> None:
    encoded = quote(json.dumps(DOC))
    assert encoded.startswith("%7B") and json.loads(policy_json(encoded)) == DOC
    assert json.loads(policy_json(DOC)) == DOC
    assert policy_json('{"Version":"2012-10-17"}') == '{"Version":"2012-10-17"}'


@pytest.mark.parametrize(
    ("tf_type", "attrs", "expected"),
    [("aws_iam_role_policy_attachment", {"id": "r-2020", "role": "r", "policy_arn": "arn:aws:iam::1:policy/p"},
      "r/arn:aws:iam::1:policy/p"),
     ("aws_iam_user_policy_attachment", {"user": "u", "policy_arn": "arn:x"}, "u/arn:x"),
     ("aws_iam_group_policy_attachment", {"group": "g", "policy_arn": "arn:x"}, "g/arn:x"),
     ("aws_iam_group_policy_attachment", {"group": "g"}, None),
     ("aws_iam_group_membership", {"id": "anything", "name": "anything", "group": "devs", "users": ["a"]}, "devs")],
)  # fmt: skip
def test_native_id_mappings(tf_type: str, attrs: dict[str, Any], expected: str | None) -> None:
    info = type_info(tf_type)
    assert info is not None and info.native_id is not None
    assert info.native_id(attrs) == expected


# The corpus states, recreated in moto, then compared code vs live -----------------------------------------


def _seed(iam: Any, resources: list[dict[str, Any]]) -> None:
    """Create what a state declares (names, paths, documents, tags), principals and policies on demand."""
    made: set[tuple[str, str]] = set()

    def ensure(kind: str, name: str) -> None:
        if (kind, name) in made:
            return
        made.add((kind, name))
        if kind == "role":
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
        elif kind == "user":
            iam.create_user(UserName=name)
        elif kind == "group":
            iam.create_group(GroupName=name)
        else:  # a policy ARN
            path, pname = name.split(":policy", 1)[1].rsplit("/", 1)
            iam.create_policy(PolicyName=pname, Path=path + "/", PolicyDocument=json.dumps(DOC))

    order = ["aws_iam_policy", "aws_iam_role", "aws_iam_user", "aws_iam_group"]
    for r in sorted(resources, key=lambda r: order.index(r["type"]) if r["type"] in order else len(order)):
        a, t = r["attributes"], r["type"]
        tags = [{"Key": k, "Value": v} for k, v in (a.get("tags") or {}).items()]
        if t == "aws_iam_policy":
            made.add(("policy", a["arn"]))
            extra = {"Description": a["description"]} if a.get("description") else {}
            iam.create_policy(PolicyName=a["name"], Path=a["path"], PolicyDocument=a["policy"], Tags=tags, **extra)
        elif t == "aws_iam_role":
            made.add(("role", a["name"]))
            iam.create_role(RoleName=a["name"], Path=a["path"], AssumeRolePolicyDocument=a["assume_role_policy"],
                            MaxSessionDuration=a["max_session_duration"], Tags=tags)  # fmt: skip
        elif t == "aws_iam_user":
            made.add(("user", a["name"]))
            iam.create_user(UserName=a["name"], Path=a["path"], Tags=tags)
        elif t == "aws_iam_group":
            made.add(("group", a["name"]))
            iam.create_group(GroupName=a["name"], Path=a["path"])
        elif t.endswith("_policy_attachment"):
            kind = t.split("_")[2]
            ensure(kind, a[kind])
            ensure("policy", a["policy_arn"])
            getattr(iam, f"attach_{kind}_policy")(**{f"{kind.title()}Name": a[kind], "PolicyArn": a["policy_arn"]})
        elif t.endswith("_policy"):
            kind = t.split("_")[2]
            ensure(kind, a[kind])
            getattr(iam, f"put_{kind}_policy")(**{f"{kind.title()}Name": a[kind], "PolicyName": a["name"],
                                                   "PolicyDocument": a["policy"]})  # fmt: skip


# The policy states hold heredoc documents ending in a newline: canonicalisation must parse them as JSON.
CORPUS_CASES = ["aws_iam_role_multiple", "aws_iam_user_multiple", "aws_iam_group",
                "aws_iam_policy_multiple", "aws_iam_role_policy_multiple", "aws_iam_user_policy_multiple",
                "aws_iam_group_policy",
                "aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
                "aws_iam_group_policy_attachment"]  # fmt: skip


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_a_corpus_state_recreated_live_compares_clean(case: str, moto_url: str, redactor: Redactor,
                                                      tmp_path: Path) -> None:  # fmt: skip
    src = STATES / case / "terraform.tfstate"
    if not src.exists():
        pytest.skip(f"corpus state not found at {src}")
    acct = new_account()
    text = re.sub(r"(arn:aws:iam::)\d{12}", rf"\g<1>{acct}", src.read_text())  # the state, in our account
    state = tmp_path / "terraform.tfstate"
    state.write_text(text)
    flat = [{"type": r["type"], "attributes": i["attributes"]}
            for r in json.loads(text)["resources"] if r.get("mode") == "managed" for i in r["instances"]]  # fmt: skip
    _seed(iam_client(moto_url, acct), flat)

    ctx = CollectContext(environment="staging", source_name="tf", base_dir=tmp_path, redactor=redactor,
                         role="declared", tokens={})  # fmt: skip
    (declared,) = collect_state(TerraformStateSource(kind="terraform-state", path=str(state)), ctx)
    live = run(iam_only(moto_url, acct), redactor)
    inv = Inventory("staging", tuple(canonicalize(s) for s in (declared, live)))
    result = compare_code_live(inv, Rules(tokens={}))
    types = {r["type"] for r in flat}
    about_state = [f for f in result.findings if f.type in types]
    assert about_state == [], [(f.message, f.changes) for f in about_state]
    live_ids = {r.id for r in live.resources if r.type in types}
    assert len(live_ids) == len(flat)  # every declared object found, one live object each
    info = type_info(flat[0]["type"])
    if info is not None and info.native_id is not None:
        assert {info.native_id(r["attributes"]) for r in flat} == live_ids
    else:
        assert {r["attributes"]["id"] for r in flat} == live_ids  # Terraform's id is the live id


def test_a_hand_made_change_shows_against_the_state(moto_url: str, redactor: Redactor, tmp_path: Path) -> None:
    """The same recreation, then drift by hand: a changed trust policy and a policy attached outside code."""
    src = STATES / "aws_iam_role_multiple" / "terraform.tfstate"
    if not src.exists():
        pytest.skip(f"corpus state not found at {src}")
    acct = new_account()
    state = tmp_path / "terraform.tfstate"
    state.write_text(src.read_text())
    flat = [{"type": r["type"], "attributes": i["attributes"]}
            for r in json.loads(src.read_text())["resources"] for i in r["instances"]]  # fmt: skip
    iam = iam_client(moto_url, acct)
    _seed(iam, flat)
    name = flat[0]["attributes"]["name"]
    lambda_trust = json.dumps({**TRUST, "Statement": [{**TRUST["Statement"][0],  # type: ignore[dict-item]
                                                       "Principal": {"Service": "lambda.amazonaws.com"}}]})  # fmt: skip
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=lambda_trust)
    iam.attach_role_policy(RoleName=name, PolicyArn=iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(
        DOC2))["Policy"]["Arn"])  # fmt: skip
    ctx = CollectContext(environment="staging", source_name="tf", base_dir=tmp_path, redactor=redactor,
                         role="declared", tokens={})  # fmt: skip
    (declared,) = collect_state(TerraformStateSource(kind="terraform-state", path=str(state)), ctx)
    live: Snapshot = run(iam_only(moto_url, acct), redactor)
    result = compare_code_live(Inventory("staging", tuple(canonicalize(s) for s in (declared, live))),
                               Rules(tokens={}))  # fmt: skip
    kinds = {(f.kind, f.type) for f in result.findings}
    assert ("changed", "aws_iam_role") in kinds
    assert ("unmanaged", "aws_iam_role_policy_attachment") in kinds
    (changed,) = [f for f in result.findings if f.kind == "changed"]
    assert any(c.path.startswith("assume_role_policy") for c in changed.changes)
