"""Code vs live and environment vs environment on live AWS accounts (moto's server), end to end through
the CLI: Terraform states written to match the accounts, then broken by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import account_session, new_account, scan_aws
from parity.cli import main
from parity.redact import Redactor
from parity.sources.aws.session import AwsSession


def tf_state(*resources: dict[str, Any]) -> str:
    return json.dumps({"version": 4, "terraform_version": "1.6.0", "serial": 1, "lineage": "x", "outputs": {},
                       "resources": list(resources)})  # fmt: skip


def tf_res(type_: str, name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "managed", "type": type_, "name": name,
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}]}  # fmt: skip


def queue_url(acct: str, name: str, region: str = "eu-west-1") -> str:
    return f"https://sqs.{region}.amazonaws.com/{acct}/{name}"


def write_config(tmp: Path, moto_url: str, envs: dict[str, str], with_states: bool = True) -> Path:
    lines = ["environments:"]
    for env, acct in envs.items():
        lines += [f"  {env}:", f'    accounts: ["{acct}"]', "    sources:"]
        if with_states:
            lines += [f"      - {{kind: terraform-state, path: {env}.tfstate}}"]
        lines += [f"      - {{kind: aws, regions: [eu-west-1], endpoint_url: '{moto_url}',",
                  f"         role_arn: 'arn:aws:iam::{acct}:role/parity'}}"]  # fmt: skip
    lines.append("promotion: [" + ", ".join(envs) + "]")
    cfg = tmp / "parity.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 2, 3), err
    return code, json.loads(out)


@pytest.fixture
def production(moto_url: str, tmp_path: Path) -> tuple[str, Path]:
    """An account defined by a state; then broken by hand: a queue setting changed in the console, a queue
    deleted, a queue and a bucket created outside Terraform."""
    acct = new_account()
    sess = account_session(moto_url, acct)
    sqs = sess.client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
    s3 = sess.client("s3", endpoint_url=moto_url)  # type: ignore[attr-defined]
    sqs.create_queue(QueueName="orders-prod", Attributes={"VisibilityTimeout": "30"}, tags={"app": "shop"})
    sqs.create_queue(QueueName="debug-by-hand")
    for bucket, tags in ((f"assets-{acct}", [{"Key": "app", "Value": "shop"}]), (f"adhoc-{acct}", [])):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        if tags:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    state = tf_state(
        tf_res(
            "aws_sqs_queue",
            "orders",
            {
                "id": queue_url(acct, "orders-prod"),
                "name": "orders-prod",
                "visibility_timeout_seconds": 120,
                "message_retention_seconds": 345600,
                "delay_seconds": 0,
                "fifo_queue": False,
                "max_message_size": 1048576,
                "receive_wait_time_seconds": 0,
                "sqs_managed_sse_enabled": True,
                "tags": {"app": "shop"},
                "tags_all": {"app": "shop"},
            },
        ),
        tf_res(
            "aws_sqs_queue",
            "gone",
            {"id": queue_url(acct, "gone-prod"), "name": "gone-prod", "visibility_timeout_seconds": 30, "tags": {}},
        ),
        tf_res(
            "aws_s3_bucket",
            "assets",
            {
                "id": f"assets-{acct}",
                "bucket": f"assets-{acct}",
                "tags": {"app": "shop"},
                "versioning": [{"enabled": False, "mfa_delete": False}],
            },
        ),
    )
    (tmp_path / "production.tfstate").write_text(state)
    return acct, write_config(tmp_path, moto_url, {"production": acct})


def test_code_vs_live(production: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    acct, cfg = production
    code, doc = cli_json(capsys, "drift", "production", "-c", str(cfg))
    assert code == 2
    got = {(f["kind"], f["type"], f["resources"]["production"]) for f in doc["findings"]}
    assert ("changed", "aws_sqs_queue", queue_url(acct, "orders-prod")) in got
    assert ("missing", "aws_sqs_queue", queue_url(acct, "gone-prod")) in got
    assert ("unmanaged", "aws_sqs_queue", queue_url(acct, "debug-by-hand")) in got
    assert ("unmanaged", "aws_s3_bucket", f"adhoc-{acct}") in got
    assert ("unmanaged", "aws_s3_bucket_versioning", f"adhoc-{acct}") not in got  # reported through its bucket
    # the declared bucket matches, and its child resources (versioning, ...) are managed through it
    ids = {f["resources"]["production"] for f in doc["findings"]}
    assert f"assets-{acct}" not in ids
    changed = next(f for f in doc["findings"] if f["kind"] == "changed")
    assert [(c["path"], c["left"], c["right"]) for c in changed["changes"]] == [("visibility_timeout_seconds", 120, 30)]
    cov = doc["coverage"]["production"]
    assert cov["live"] > cov["managed"] > 0 and cov["complete"]


def test_a_denied_listing_never_reads_as_missing(
    production: tuple[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cfg = production
    original = AwsSession.client

    def denied(**_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        return AWSResponse("https://x", 403, {}, None), {"Error": {"Code": "AccessDenied", "Message": "no"},
                                                          "ResponseMetadata": {"HTTPStatusCode": 403}}  # fmt: skip

    def client(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        c.meta.events.register("before-call.sqs.ListQueues", denied, unique_id="deny-sqs")
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    _, doc = cli_json(capsys, "drift", "production", "-c", str(cfg))
    kinds_for_queues = {f["kind"] for f in doc["findings"] if f["type"] == "aws_sqs_queue"}
    assert kinds_for_queues == set()  # neither missing nor changed: sqs could not be checked
    assert not doc["coverage"]["production"]["complete"]
    assert any(g["kind"] == "denied" and g["type"] == "aws_sqs_queue" for g in doc["coverage"]["production"]["gaps"])
    assert main(["drift", "production", "-c", str(cfg), "--strict"]) == 2  # the S3 drift is still drift
    capsys.readouterr()


def test_environment_vs_environment_live(moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stg, prd = new_account(), new_account()
    for acct, env in ((stg, "staging"), (prd, "prod")):
        sqs = account_session(moto_url, acct).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
        sqs.create_queue(
            QueueName=f"shop-{env}-orders", Attributes={"VisibilityTimeout": "60" if env == "prod" else "30"}
        )
        sqs.create_queue(QueueName=f"shop-{env}-emails", Attributes={"DelaySeconds": "5"})
    sqs = account_session(moto_url, prd).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
    sqs.create_queue(QueueName="shop-prod-replay")  # created during an incident
    cfg = write_config(tmp_path, moto_url, {"staging": stg, "production": prd}, with_states=False)
    code, doc = cli_json(capsys, "diff", "staging", "production", "-c", str(cfg))
    assert code == 2
    by = {(f["kind"], f["type"]): f for f in doc["findings"]}
    differs = by[("differs", "aws_sqs_queue")]
    assert [(c["path"], c["left"], c["right"]) for c in differs["changes"]] == [("visibility_timeout_seconds", 30, 60)]
    only = by[("only_in", "aws_sqs_queue")]
    assert only["resources"] == {"production": f"https://sqs.eu-west-1.amazonaws.com/{prd}/shop-prod-replay"}
    # the emails queues pair across accounts (names and ARNs normalised) and do not differ
    assert sum(1 for f in doc["findings"] if f["type"] == "aws_sqs_queue") == 2


@pytest.mark.parametrize(
    ("tags", "aws_managed", "owner"),
    [({"aws:cloudformation:stack-name": "legacy"}, False, "cloudformation"),
     ({"kubernetes.io/cluster/prod": "owned"}, False, "kubernetes"),
     ({"elbv2.k8s.aws/cluster": "prod"}, False, "kubernetes"),
     ({"app": "shop"}, True, "aws-managed"),
     ({"app": "shop"}, False, "none")],
)  # fmt: skip
def test_owner_from_tags(tags: dict[str, str], aws_managed: bool, owner: str) -> None:
    from parity.sources.aws.owner import owner_from_tags

    assert owner_from_tags(tags, aws_managed) == owner


def test_values_hashed_by_position_compare_equal_code_vs_live(
    moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lambda environment values and SSM parameter values are hashed on the live side; a state holding
    them in plain text (or hashed, for sensitive ones) must compare equal, and a console edit must show."""
    import io
    import zipfile

    acct = new_account()
    sess = account_session(moto_url, acct)
    iam = sess.client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    lam = sess.client("lambda", endpoint_url=moto_url)  # type: ignore[attr-defined]
    env = {"Variables": {"MODE": "fast", "N": "3"}}
    lam.create_function(FunctionName="thumbs", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()}, Environment=env)  # fmt: skip
    ssm = sess.client("ssm", endpoint_url=moto_url)  # type: ignore[attr-defined]
    ssm.put_parameter(Name="/shop/mode", Value="fast", Type="String")
    ssm.put_parameter(Name="/shop/db-password", Value="hunter2-very-secret", Type="SecureString")
    fn = lam.get_function_configuration(FunctionName="thumbs")
    state = tf_state(
        tf_res("aws_lambda_function", "thumbs", {
            "id": "thumbs", "function_name": "thumbs", "runtime": "python3.12", "handler": "app.handler",
            "memory_size": fn["MemorySize"], "timeout": fn["Timeout"], "role": role,
            "environment": [{"variables": {"MODE": "fast", "N": "3"}}], "architectures": fn.get("Architectures"),
            "layers": [], "tags": {}}),
        tf_res("aws_ssm_parameter", "mode", {"id": "/shop/mode", "name": "/shop/mode", "type": "String",
               "value": "fast", "tier": "Standard", "data_type": "text", "description": "", "tags": {}}),
        tf_res("aws_ssm_parameter", "pw", {"id": "/shop/db-password", "name": "/shop/db-password",
               "type": "SecureString", "value": "hunter2-very-secret", "tier": "Standard", "data_type": "text",
               "description": "", "tags": {}}),
    )  # fmt: skip
    (tmp_path / "production.tfstate").write_text(state)
    cfg = write_config(tmp_path, moto_url, {"production": acct})
    cfg.write_text(
        cfg.read_text().replace(
            "role_arn:", "resource_types: {include: [aws_lambda_*, aws_ssm_*]},\n         role_arn:"
        )
    )
    _, doc = cli_json(capsys, "drift", "production", "-c", str(cfg))
    assert [f for f in doc["findings"] if f["kind"] == "changed"] == []
    assert "hunter2-very-secret" not in json.dumps(doc)
    lam.update_function_configuration(FunctionName="thumbs", Environment={"Variables": {"MODE": "slow", "N": "3"}})
    _, doc = cli_json(capsys, "drift", "production", "-c", str(cfg))
    (changed,) = [f for f in doc["findings"] if f["kind"] == "changed"]
    assert [c["path"] for c in changed["changes"]] == ["environment[0].variables.MODE"]
    assert "slow" not in json.dumps(doc)


def test_an_endpoints_password_and_token_are_hashed_alike_in_code_and_live(
    moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The live side hashes a subscription endpoint's password and query; the state's copy must be hashed
    the same way, or code vs live reports a permanent `changed` that prints the state's password."""
    acct = new_account()
    sns = account_session(moto_url, acct).client("sns", endpoint_url=moto_url)  # type: ignore[attr-defined]
    topic = sns.create_topic(Name="events")["TopicArn"]
    hook = "https://bot:pw-Never-Shown-77@hooks.example.com/n?token=tok-Never-Shown-78"
    sub = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=hook, ReturnSubscriptionArn=True)["SubscriptionArn"]
    state = tf_state(
        tf_res("aws_sns_topic", "t", {"id": topic, "arn": topic, "name": "events"}),
        tf_res(
            "aws_sns_topic_subscription",
            "s",
            {
                "id": sub,
                "arn": sub,
                "topic_arn": topic,
                "protocol": "https",
                "endpoint": hook,
                "raw_message_delivery": False,
            },
        ),
    )
    (tmp_path / "production.tfstate").write_text(state)
    cfg = write_config(tmp_path, moto_url, {"production": acct})
    for fmt in ("json", "table"):
        main(["drift", "production", "-c", str(cfg), "--format", fmt, "--no-progress"])
        out, err = capsys.readouterr()
        assert "Never-Shown" not in out + err
    _, doc = cli_json(capsys, "drift", "production", "-c", str(cfg))
    assert not [f for f in doc["findings"] if f["type"] == "aws_sns_topic_subscription"]


def test_what_aws_makes_once_per_vpc_pairs_by_its_vpc(
    moto_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], redactor: Redactor
) -> None:
    """Each account has the default VPC and a custom one, each with a `default` group and a main route
    table: named by VPC id they were ambiguous, and every one was `only_in` on both sides."""
    accts = {"staging": new_account(), "production": new_account()}
    for env, acct in accts.items():
        c = account_session(moto_url, acct).client("ec2", endpoint_url=moto_url)  # type: ignore[attr-defined]
        tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": f"shop-{env}"}]}]
        vpc = c.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tags)["Vpc"]["VpcId"]
        default_vpc = next(v["VpcId"] for v in c.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
        for v in (vpc, default_vpc):  # one group name in two VPCs: qualified by its VPC as well
            c.create_security_group(GroupName="web", Description="web", VpcId=v)
        c.create_security_group(GroupName="api", Description="api", VpcId=vpc)
    types = ["aws_vpc", "aws_security_group", "aws_route_table"]
    snap = scan_aws(moto_url, accts["staging"], redactor, types, regions=("eu-west-1",))
    names = {(r.type, r.name) for r in snap.resources}
    assert {("aws_security_group", n) for n in ("shop-staging/default", "default/default", "shop-staging/web",
                                                "default/web", "api")} <= names  # fmt: skip
    assert {("aws_route_table", "shop-staging/main"), ("aws_route_table", "default/main")} <= names
    cfg = write_config(tmp_path, moto_url, accts, with_states=False)
    cfg.write_text(
        cfg.read_text().replace("role_arn:", f"resource_types: {{include: [{', '.join(types)}]}}, role_arn:")
    )
    code, doc = cli_json(capsys, "diff", "staging", "production", "-c", str(cfg))
    assert code == 0, [(f["kind"], f["type"], f["title"]) for f in doc["findings"]]
