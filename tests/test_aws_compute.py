"""Lambda, ECS and ECR types against moto's server: created with boto3, listed by parity, compared."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from typing import Any

from conftest import account_session, new_account
from parity.redact import Redactor, is_redacted
from parity.registry import type_info
from test_aws_source import aws_spec, by_type, run

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Service": "lambda.amazonaws.com"}}]})  # fmt: skip


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def _clients(moto_url: str, acct: str, service: str) -> dict[str, Any]:
    sess = account_session(moto_url, acct)
    return {r: sess.client(service, endpoint_url=moto_url, region_name=r)  # type: ignore[attr-defined]
            for r in ("eu-west-1", "us-east-1")}  # fmt: skip


def test_lambda_functions_with_hashed_environment(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    iam = account_session(moto_url, acct).client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam = _clients(moto_url, acct, "lambda")
    code = _zip()
    lam["eu-west-1"].create_function(
        FunctionName="shop-staging-orders", Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": code}, MemorySize=256, Timeout=30, Architectures=["arm64"],
        Environment={"Variables": {"DB_PASSWORD": "hunter2-lambda", "LOG_LEVEL": "debug"}},
        Tags={"app": "shop", "aws:cloudformation:stack-name": "shop"},
    )  # fmt: skip
    lam["us-east-1"].create_function(FunctionName="edge", Runtime="nodejs20.x", Role=role, Handler="i.h",
                                     Code={"ZipFile": code})  # fmt: skip

    snap = run(aws_spec(moto_url, acct, resource_types={"include": ["aws_lambda_*"]}), redactor)
    fns = by_type(snap, "aws_lambda_function")
    assert set(fns) == {"shop-staging-orders", "edge"}
    fn = fns["shop-staging-orders"]
    a = fn.attributes
    assert (a["runtime"], a["handler"], a["memory_size"], a["timeout"], a["role"]) == (
        "python3.12", "handler.handler", 256, 30, role)  # fmt: skip
    assert a["architectures"] == ["arm64"] and a["layers"] == []
    env = a["environment"][0]["variables"]
    assert set(env) == {"DB_PASSWORD", "LOG_LEVEL"}
    assert all(is_redacted(v) for v in env.values()), env  # every value, not only secret-looking ones
    assert env["LOG_LEVEL"] == redactor.redact("debug")
    assert "hunter2-lambda" not in repr(snap.resources) and "debug" not in repr(env)
    assert a["source_code_hash"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert fn.tags["app"] == "shop" and fn.owner == "cloudformation"
    assert fn.key == f"arn:aws:lambda:eu-west-1:{acct}:function:shop-staging-orders"
    edge = fns["edge"]
    assert edge.attributes["environment"] == [] and edge.owner == "none"
    assert edge.key.startswith("arn:aws:lambda:us-east-1:")
    assert set(type_info("aws_lambda_function").compared) >= {"runtime", "environment", "tags"}  # type: ignore[union-attr]


def test_ecs_clusters_services_and_latest_task_definition(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    ecs = _clients(moto_url, acct, "ecs")
    e = ecs["eu-west-1"]
    ec2 = _clients(moto_url, acct, "ec2")["eu-west-1"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    cluster = e.create_cluster(clusterName="shop", tags=[{"key": "app", "value": "shop"}])["cluster"]["clusterArn"]
    env = [{"name": "TOKEN", "value": "s3cr3t-ecs"}, {"name": "A_MODE", "value": "fast"}]
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:2.0"
    container = {"name": "web", "image": image, "memory": 256, "essential": True, "environment": env}
    e.register_task_definition(family="web", containerDefinitions=[{**container, "image": "web:1.0"}])
    td = e.register_task_definition(family="web", containerDefinitions=[container], cpu="256", memory="512",
                                    networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                    tags=[{"key": "app", "value": "shop"}])["taskDefinition"]  # fmt: skip
    e.register_task_definition(family="gone", containerDefinitions=[{"name": "x", "image": "x:1", "memory": 64}])
    e.deregister_task_definition(taskDefinition="gone:1")
    svc = e.create_service(
        cluster="shop", serviceName="web", taskDefinition=td["taskDefinitionArn"], desiredCount=3,
        launchType="FARGATE", tags=[{"key": "team", "value": "core"}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets[::-1], "securityGroups": [sg],
                                                      "assignPublicIp": "DISABLED"}},
    )["service"]  # fmt: skip
    ecs["us-east-1"].create_cluster(clusterName="batch")

    snap = run(aws_spec(moto_url, acct, resource_types={"include": ["aws_ecs_*"]}), redactor)
    clusters = {r.name: r for r in by_type(snap, "aws_ecs_cluster").values()}
    assert set(clusters) == {"shop", "batch"}
    assert clusters["shop"].id == cluster and clusters["shop"].tags == {"app": "shop"}
    (service,) = by_type(snap, "aws_ecs_service").values()
    assert service.id == svc["serviceArn"]
    a = service.attributes
    assert (a["cluster"], a["task_definition"], a["desired_count"], a["launch_type"]) == (
        cluster, td["taskDefinitionArn"], 3, "FARGATE")  # fmt: skip
    assert a["network_configuration"] == [{"subnets": sorted(subnets), "security_groups": [sg],
                                           "assign_public_ip": False}]  # fmt: skip
    assert service.tags == {"team": "core"}
    assert type_info("aws_ecs_service").parent == ("aws_ecs_cluster", "cluster")  # type: ignore[union-attr]

    tds = by_type(snap, "aws_ecs_task_definition")
    assert set(tds) == {"web"}  # Terraform's id is the family; "gone" has no ACTIVE revision
    web = tds["web"]
    assert web.attributes["revision"] == 2 and web.attributes["arn"] == td["taskDefinitionArn"]
    assert web.key == td["taskDefinitionArn"].rsplit(":", 1)[0]  # pairs across environments at any revision
    assert (web.attributes["cpu"], web.attributes["memory"], web.attributes["network_mode"]) == ("256", "512", "awsvpc")
    (c,) = json.loads(web.attributes["container_definitions"])
    assert c["image"] == container["image"]  # kept whole for the promotion ledger
    assert [x["name"] for x in c["environment"]] == ["A_MODE", "TOKEN"]
    assert all(is_redacted(x["value"]) for x in c["environment"])
    assert "s3cr3t-ecs" not in repr(snap.resources)
    assert web.tags == {"app": "shop"}


def test_ecr_repositories_and_policies(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    ecr = _clients(moto_url, acct, "ecr")
    e = ecr["eu-west-1"]
    tags = [{"Key": "app", "Value": "shop"}]
    e.create_repository(repositoryName="shop/web", imageTagMutability="IMMUTABLE",
                        imageScanningConfiguration={"scanOnPush": True}, tags=tags)  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow",
              "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": ["ecr:BatchGetImage"]}]}  # fmt: skip
    e.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(policy))
    lifecycle = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                 "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]}  # fmt: skip
    e.put_lifecycle_policy(repositoryName="shop/web", lifecyclePolicyText=json.dumps(lifecycle))
    ecr["us-east-1"].create_repository(repositoryName="plain")

    snap = run(aws_spec(moto_url, acct, resource_types={"include": ["aws_ecr_*"]}), redactor)
    repos = by_type(snap, "aws_ecr_repository")
    assert set(repos) == {"shop/web", "plain"}
    web = repos["shop/web"].attributes
    assert web["image_tag_mutability"] == "IMMUTABLE"
    assert web["image_scanning_configuration"] == [{"scan_on_push": True}]
    assert web["encryption_configuration"][0]["encryption_type"] == "AES256"
    assert repos["shop/web"].tags == {"app": "shop"} and repos["plain"].attributes["image_tag_mutability"] == "MUTABLE"
    pols = by_type(snap, "aws_ecr_repository_policy")
    assert set(pols) == {"shop/web"} and json.loads(pols["shop/web"].attributes["policy"]) == policy
    life = by_type(snap, "aws_ecr_lifecycle_policy")
    assert set(life) == {"shop/web"} and json.loads(life["shop/web"].attributes["policy"]) == lifecycle
    assert snap.coverage.complete
