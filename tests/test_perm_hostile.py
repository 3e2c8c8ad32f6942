"""Permission analysis on hostile or odd policy documents: what cannot be read is a visible note, never a
silent "grants nothing"; a grant is judged by its effect (an inline PowerUserAccess twin is elevated like the
managed policy); the wildcard principal reads the same however it is spelt."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import pytest

from parity.compare import Inventory, Rules
from parity.config import parse_config
from parity.model import Coverage, Finding, Resource, Snapshot
from parity.normalize import canonicalize
from parity.permissions import all_permissions, analyse_permissions, default_catalogue
from parity.permissions.elevated import broad
from parity.permissions.environment import EnvPermissions
from parity.permissions.model import PermissionSet
from parity.permissions.policy import read_statements
from parity.sources.aws.last_accessed import LastAccess, LastAccessFailed

ACCT = {"staging": "111111111111", "production": "222222222222"}
TODAY = dt.date(2026, 6, 1)
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"
CONFIG = """
environments:
  staging: {sources: [{kind: aws, endpoint_url: "http://127.0.0.1:1", role_arn: "arn:aws:iam::111111111111:role/p"}]}
  production: {sources: [{kind: aws, endpoint_url: "http://127.0.0.1:1", role_arn: "arn:aws:iam::222222222222:role/p"}]}
promotion: [staging, production]
rules:
  - {rule: no_admin_humans, environments: [staging, production]}
"""
POWER_USER_INLINE: dict[str, Any] = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}]}  # fmt: skip


def no_lookup(env: str, arn: str) -> LastAccess:
    raise LastAccessFailed("not asked in this test")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


EC2 = doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})


def arn(env: str, kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCT[env]}:{kind}/{name}"


def principal(env: str, kind: str, name: str, **attrs: Any) -> Resource:
    a = {"name": name, "arn": arn(env, kind, name), "create_date": "2026-05-01T00:00:00Z", **attrs}
    return Resource(f"aws_iam_{kind}", name, arn(env, kind, name), a)


def inline(env: str, kind: str, owner: str, name: str, policy: Any) -> Resource:
    return Resource(f"aws_iam_{kind}_policy", f"{owner}:{name}", f"{arn(env, kind, owner)}/inline/{name}",
                    {kind: owner, "name": name, "policy": policy})  # fmt: skip


def inventory(env: str, *resources: Resource) -> Inventory:
    """A live aws snapshot in canonical form (as the pipeline hands it on), SCPs listed (none)."""
    snap = Snapshot(env, "aws", "aws", "live", dt.datetime(2026, 6, 1, tzinfo=dt.UTC), resources,
                    Coverage(listed=("aws_iam_user", "aws_organizations_policy")))  # fmt: skip
    return Inventory(env, (canonicalize(snap),))


@functools.lru_cache(maxsize=1)
def config() -> Any:
    return parse_config(CONFIG, "parity.yaml")


def rules() -> Rules:
    return Rules(tokens=config().all_tokens(), promotion=("staging", "production"), accounts={
        e: (a,) for e, a in ACCT.items()}, today=TODAY)  # fmt: skip


def envs(*invs: Inventory) -> dict[str, EnvPermissions]:
    return all_permissions({i.environment: i for i in invs}, rules(), default_catalogue())


def findings(*invs: Inventory) -> list[Finding]:
    by = {i.environment: i for i in invs}
    mirrors = [("staging", "production")] if len(by) == 2 else []
    return analyse_permissions(by, config(), rules(), mirrors, TODAY, last_accessed=no_lookup)


def the_set(env: EnvPermissions, name: str) -> PermissionSet:
    (s,) = env.by_name(name)
    return s


# --------------------------------------------------------------------------- unreadable documents
BAD_DOCUMENTS = {
    "truncated JSON": ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"', "not valid JSON"),
    "not JSON at all": ("allow everything", "not valid JSON"),
    "a list, not an object": ([{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}], "not a JSON object"),
    "Statement is a string": ({"Version": "2012-10-17", "Statement": "Allow ec2:*"}, "Statement is not"),
    "Effect spelt otherwise": ({"Statement": [{"Effect": "allow", "Action": "ec2:*", "Resource": "*"}]},
                               "Effect is \"allow\""),
    "Action holds a number": ({"Statement": [{"Effect": "Allow", "Action": ["ec2:*", 7], "Resource": "*"}]},
                              "Action is not"),
    "no Action": ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "neither Action nor NotAction"),
    "Resource is an object": ({"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": {"a": 1}}]},
                              "Resource is not"),
    "statement is a string": ({"Statement": ["Allow ec2:*"]}, 'statement "Allow ec2:*": not an object'),
    "absent (a plan's unknown value)": (None, "no policy document"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_an_unreadable_inline_policy_is_a_note_on_the_principal(name: str) -> None:
    bad, why = BAD_DOCUMENTS[name]
    inv = inventory("production", principal("production", "user", "ops"),
                    inline("production", "user", "ops", "ec2", bad))  # fmt: skip
    env = envs(inv)["production"]
    s = the_set(env, "ops")
    (note,) = s.principal.notes
    assert "user ops in production: inline:ec2 could not be read" in note and why in note, note
    assert "effective permissions are incomplete" in note
    assert env.notes == [note]
    # the policy stands in as one literal pseudo-action: it shows in the principal's view and in a diff
    assert s.allowed() == {"<unreadable inline:ec2>"}
    (policy,) = s.principal.policies
    assert why in policy.unread


def test_readable_documents_give_no_note() -> None:
    empty = {"Version": "2012-10-17", "Statement": []}  # canonical form folds the empty list away
    inv = inventory("production", principal("production", "user", "ops"),
                    inline("production", "user", "ops", "ec2", EC2),
                    inline("production", "user", "ops", "nothing", json.dumps(empty)),
                    principal("production", "role", "app", assume_role_policy=json.dumps(
                        {"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                       "Action": "sts:AssumeRole"}})))  # fmt: skip
    env = envs(inv)["production"]
    assert env.notes == []
    assert all(not p.unread for p in the_set(env, "ops").principal.policies)


def test_a_readable_statement_counts_and_the_unreadable_one_is_named() -> None:
    mixed = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Permit", "Action": "s3:*", "Resource": "*"})  # fmt: skip
    stmts, problems = read_statements(mixed, "inline:x", default_catalogue())
    assert [s.actions for s in stmts] == [frozenset({"s3:getobject"})]
    assert problems == (
        'statement {"Action":"s3:*","Effect":"Permit","Resource":"*"}: Effect is "Permit", not Allow or Deny',
    )
    inv = inventory("production", principal("production", "user", "ops"),
                    inline("production", "user", "ops", "mixed", mixed))  # fmt: skip
    s = the_set(envs(inv)["production"], "ops")
    assert s.allowed() == {"s3:getobject", "<unreadable inline:mixed>"}
    assert 'statement {"Action":["s3:*"],"Effect":"Permit","Resource":["*"]}: Effect is' in s.principal.notes[0]
    named = doc({"Sid": "Wide", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": "mfa"})
    assert read_statements(named, "inline:x", default_catalogue())[1] == (
        'statement "Wide": Condition is not an object',
    )


def test_an_unreadable_deny_is_not_silently_dropped() -> None:
    """A Deny that cannot be read makes the set wider than IAM's: the note says the set is incomplete."""
    inv = inventory(
        "production",
        principal("production", "user", "ops"),
        inline("production", "user", "ops", "ec2", EC2),
        inline("production", "user", "ops", "guard", '{"Statement": [{"Effect": "Deny", "Action": "ec2:Ter'),
    )
    s = the_set(envs(inv)["production"], "ops")
    assert "ec2:terminateinstances" in s.allowed()
    assert any("inline:guard could not be read (not valid JSON" in n for n in s.principal.notes)


def test_the_permission_gap_carries_the_note_and_the_unreadable_side_shows() -> None:
    stg = inventory("staging", principal("staging", "user", "ops"), inline("staging", "user", "ops", "ec2", EC2))
    prod = inventory("production", principal("production", "user", "ops"),
                     inline("production", "user", "ops", "ec2", EC2[:-5]))  # fmt: skip
    gaps = {f.detail: f for f in findings(stg, prod) if f.kind == "permission_gap"}
    assert set(gaps) == {"wider-in:staging", "wider-in:production"}
    for f in gaps.values():
        assert any(n.startswith("user ops in production: inline:ec2 could not be read (not valid JSON")
                   for n in f.notes), f.notes  # fmt: skip
    assert "<unreadable inline:ec2>" in json.dumps([c.right for c in gaps["wider-in:production"].changes])


def test_the_same_unreadable_policy_on_both_sides_is_no_gap_but_still_noted() -> None:
    bad = '{"Statement": ['
    stg = inventory("staging", principal("staging", "user", "ops"), inline("staging", "user", "ops", "p", bad))
    prod = inventory(
        "production", principal("production", "user", "ops"), inline("production", "user", "ops", "p", bad)
    )
    assert not [f for f in findings(stg, prod) if f.kind == "permission_gap"]
    e = envs(stg, prod)
    assert len(e["staging"].notes) == len(e["production"].notes) == 1


def test_an_elevated_grant_carries_the_note_of_another_unreadable_policy() -> None:
    admin = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    inv = inventory("production", principal("production", "user", "dev"),
                    inline("production", "user", "dev", "all", admin),
                    inline("production", "user", "dev", "extra", "{oops"))  # fmt: skip
    found = findings(inv)
    assert {f.kind for f in found} == {"elevated_grant", "policy_violation"}
    for f in found:
        assert any("inline:extra could not be read" in n for n in f.notes), (f.kind, f.notes)


def test_unreadable_group_boundary_and_trust_policies_are_noted() -> None:
    boundary = "arn:aws:iam::222222222222:policy/boundary"
    inv = inventory(
        "production",
        principal("production", "user", "carol"),
        principal("production", "group", "devs"),
        Resource("aws_iam_group_membership", "devs", "m", {"group": "devs", "users": ["carol"]}),
        inline("production", "group", "devs", "g", "[1, 2"),
        Resource("aws_iam_policy", boundary, boundary, {"arn": boundary, "policy": "{not a policy"}),
        principal("production", "role", "app", permissions_boundary=boundary, assume_role_policy="{bad trust"),
    )
    e = envs(inv)["production"]
    (carol,) = the_set(e, "carol").principal.notes
    assert "inline:devs:g via group:devs could not be read" in carol
    app = the_set(e, "app").principal.notes
    assert any(f"permissions boundary {boundary} could not be read" in n for n in app)
    assert any("trust policy could not be read" in n and "whether people can assume it is unknown" in n for n in app)


# ------------------------------------------------------------------- judged by effect: PowerUser
@functools.lru_cache(maxsize=1)
def managed() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


def elevated(found: list[Finding], name: str) -> list[Finding]:
    return [f for f in found if f.kind == "elevated_grant" and f.key.endswith(f"/{name}")]


def test_an_inline_power_user_twin_is_elevated_like_the_managed_policy() -> None:
    pua = managed()["PowerUserAccess"]["Document"]
    inv = inventory(
        "production",
        principal("production", "user", "inline-pu"),
        inline("production", "user", "inline-pu", "power", json.dumps(POWER_USER_INLINE)),
        principal("production", "user", "managed-pu"),
        Resource("aws_iam_user_policy_attachment", f"managed-pu/{POWER_USER}", "a",
                 {"user": "managed-pu", "policy_arn": POWER_USER}),
        Resource("aws_iam_policy", POWER_USER, POWER_USER, {"arn": POWER_USER, "policy": json.dumps(pua)}),
    )  # fmt: skip
    found = findings(inv)
    (own,) = elevated(found, "inline-pu")
    (aws,) = elevated(found, "managed-pu")
    assert "nearly every action: write access to" in own.message and "on * (all but account, iam" in own.message
    assert "nearly every action: write access to" in aws.message
    # the same severity, and neither is admin-equivalent (no_admin_humans: every action, or IAM self-grant)
    assert own.severity == aws.severity == "high"
    assert not [f for f in found if f.kind == "policy_violation"]


@pytest.mark.parametrize("policy", ["ReadOnlyAccess", "SystemAdministrator", "NetworkAdministrator",
                                    "DatabaseAdministrator", "AmazonEC2FullAccess"])  # fmt: skip
def test_broad_job_policies_are_not_nearly_everything(policy: str) -> None:
    name = policy if policy in managed() else f"job-function/{policy}"
    if name not in managed():
        pytest.skip(f"{policy} not in moto's managed policies")
    inv = inventory("production", principal("production", "user", "u"),
                    inline("production", "user", "u", "p", json.dumps(managed()[name]["Document"])))  # fmt: skip
    s = the_set(envs(inv)["production"], "u")
    assert broad(s.grants, default_catalogue()) == ""


def test_breadth_is_measured_on_the_effective_set() -> None:
    bounded = "arn:aws:iam::222222222222:policy/only-s3"
    inv = inventory(
        "production",
        principal("production", "user", "u", permissions_boundary=bounded),
        inline("production", "user", "u", "power", json.dumps(POWER_USER_INLINE)),
        Resource("aws_iam_policy", bounded, bounded, {"arn": bounded, "policy": doc(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})}),
    )  # fmt: skip
    assert not elevated(findings(inv), "u")
    conditional = {"Statement": [{**POWER_USER_INLINE["Statement"][0],
                                  "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}  # fmt: skip
    inv = inventory("production", principal("production", "user", "u"),
                    inline("production", "user", "u", "power", json.dumps(conditional)))  # fmt: skip
    assert broad(the_set(envs(inv)["production"], "u").grants, default_catalogue()) == ""


# ----------------------------------------------------------------- the wildcard principal, both ways
@pytest.mark.parametrize("spelling", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_a_trust_policy_open_to_anyone_reads_the_same_however_spelt(spelling: Any) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": spelling,
                                                     "Action": "sts:AssumeRole"}]}  # fmt: skip
    inv = inventory("production", principal("production", "role", "open", assume_role_policy=json.dumps(trust)))
    p = the_set(envs(inv)["production"], "open").principal
    assert p.human and p.human_reason == "assumable by any principal"


def test_an_unreadable_policy_reaches_the_report_notes_without_any_finding() -> None:
    """A principal whose only policy cannot be read has no finding at all: the note must still reach the
    report (parity perms, parity scan), or its incomplete permissions show nowhere."""
    inv = inventory("production", principal("production", "role", "app"),
                    inline("production", "role", "app", "ec2", '{"Statement": [{"Effect"'))  # fmt: skip
    notes: list[str] = []
    found = analyse_permissions({"production": inv}, config(), rules(), [], TODAY, last_accessed=no_lookup,
                                notes=notes)  # fmt: skip
    assert not [f for f in found if f.resources.get("production", "").endswith("role/app")]
    assert len(notes) == 1 and "role app in production: inline:ec2 could not be read" in notes[0], notes


@pytest.mark.parametrize("command", [["perms", "production"], ["scan"]])
def test_the_unread_note_is_in_the_cli_report(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    from parity.cli import main

    def res(type_: str, name: str, attrs: dict[str, Any]) -> dict[str, Any]:
        inst = [{"schema_version": 0, "attributes": attrs}]
        provider = 'provider["registry.terraform.io/hashicorp/aws"]'
        return {"mode": "managed", "type": type_, "name": name, "instances": inst, "provider": provider}

    role = arn("production", "role", "app")
    state = {"version": 4, "terraform_version": "1.6.0", "serial": 1, "lineage": "x", "outputs": {}, "resources": [
        res("aws_iam_role", "app", {"id": "app", "name": "app", "arn": role, "assume_role_policy": doc(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})}),
        res("aws_iam_role_policy", "ec2", {"id": "app:ec2", "name": "ec2", "role": "app", "policy": '{"Statement"'}),
    ]}  # fmt: skip
    (tmp_path / "production.tfstate").write_text(json.dumps(state))
    (tmp_path / "parity.yaml").write_text(
        "store: sqlite:///.parity/parity.db\nenvironments:\n  production:\n    accounts: ['222222222222']\n"
        "    sources: [{kind: terraform-state, path: production.tfstate}]\n"
    )
    code = main([*command, "-c", str(tmp_path / "parity.yaml"), "-f", "json", "--no-progress"])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    notes = json.loads(out)["notes"]
    assert any("role app in production: inline:ec2 could not be read" in n for n in notes), notes
