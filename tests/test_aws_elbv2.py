"""ELBv2 types against moto's server: load balancers with listeners, target groups, tags in batches of 20."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import account_session, new_account, scan_aws
from parity.model import Resource, Snapshot
from parity.redact import Redactor
from parity.registry import type_info
from parity.sources.aws.session import AwsSession


def scan(moto_url: str, account: str, redactor: Redactor) -> Snapshot:
    return scan_aws(moto_url, account, redactor, ["aws_lb*"])


def of(snap: Snapshot, type_: str) -> dict[str, Resource]:
    return {r.name: r for r in snap.resources if r.type == type_}


def clients(moto_url: str, account: str, region: str) -> tuple[Any, Any]:
    sess = account_session(moto_url, account, region)
    return sess.client("elbv2", endpoint_url=moto_url), sess.client("ec2", endpoint_url=moto_url)  # type: ignore[attr-defined]


def test_load_balancers_listeners_and_target_groups(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    elb, ec2 = clients(moto_url, acct, "eu-west-1")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])[:2]
    sg = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc)["GroupId"]
    lb = elb.create_load_balancer(Name="shop-staging-web", Subnets=subnets, SecurityGroups=[sg], Scheme="internal",
                                  Tags=[{"Key": "app", "Value": "shop"}])["LoadBalancers"][0]  # fmt: skip
    lb_arn = lb["LoadBalancerArn"]
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"},
        {"Key": "idle_timeout.timeout_seconds", "Value": "120"}])  # fmt: skip
    tg = elb.create_target_group(Name="shop-web", Protocol="HTTP", Port=8080, VpcId=vpc, HealthCheckPath="/health",
                                 Tags=[{"Key": "app", "Value": "shop"}])["TargetGroups"][0]  # fmt: skip
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])  # fmt: skip
    forward = {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}
    http = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, Tags=[{"Key": "l", "Value": "1"}],
                               DefaultActions=[forward])  # fmt: skip
    to_https = {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=81,
                        DefaultActions=[{"Type": "redirect", "RedirectConfig": to_https}])  # fmt: skip
    east, _ = clients(moto_url, acct, "us-east-1")
    east_vpc = clients(moto_url, acct, "us-east-1")[1].describe_vpcs()["Vpcs"][0]["VpcId"]
    east.create_target_group(Name="audit", Protocol="TCP", Port=514, VpcId=east_vpc)

    snap = scan(moto_url, acct, redactor)
    (got,) = of(snap, "aws_lb").values()
    assert got.id == lb_arn and got.key == lb_arn and got.name == "shop-staging-web" and got.owner == "none"
    a = got.attributes
    assert a["internal"] is True and a["load_balancer_type"] == "application" and a["subnets"] == subnets
    assert a["security_groups"] == [sg] and a["enable_deletion_protection"] is True and a["idle_timeout"] == 120
    assert got.tags == {"app": "shop"}

    listeners = of(snap, "aws_lb_listener")
    assert set(listeners) == {"shop-staging-web/HTTP:80", "shop-staging-web/HTTP:81"}
    fwd = listeners["shop-staging-web/HTTP:80"]
    assert fwd.id == http["Listeners"][0]["ListenerArn"] and fwd.tags == {"l": "1"}
    assert fwd.attributes["load_balancer_arn"] == lb_arn and fwd.attributes["port"] == 80
    (action,) = fwd.attributes["default_action"]
    assert action["type"] == "forward" and action["target_group_arn"] == tg["TargetGroupArn"]
    assert action["forward"] == [] and fwd.attributes["ssl_policy"] == ""
    (redirect,) = listeners["shop-staging-web/HTTP:81"].attributes["default_action"]
    assert redirect["redirect"][0]["protocol"] == "HTTPS" and redirect["redirect"][0]["status_code"] == "HTTP_301"
    assert type_info("aws_lb_listener").parent == ("aws_lb", "load_balancer_arn")  # type: ignore[union-attr]

    tgs = of(snap, "aws_lb_target_group")
    assert set(tgs) == {"shop-web", "audit"}
    web = tgs["shop-web"]
    assert web.id == tg["TargetGroupArn"] and web.tags == {"app": "shop"}
    assert (web.attributes["port"], web.attributes["protocol"], web.attributes["target_type"]) == (
        8080,
        "HTTP",
        "instance",
    )
    assert web.attributes["health_check"][0]["path"] == "/health"
    assert web.attributes["deregistration_delay"] == "30"
    assert tgs["audit"].key.startswith(f"arn:aws:elasticloadbalancing:us-east-1:{acct}:targetgroup/audit/")


def test_tags_are_read_in_batches_of_twenty(moto_url: str, redactor: Redactor, monkeypatch: pytest.MonkeyPatch) -> None:
    acct = new_account()
    elb, ec2 = clients(moto_url, acct, "eu-west-1")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    for n in range(21):
        elb.create_target_group(
            Name=f"tg-{n}", Protocol="HTTP", Port=80, VpcId=vpc, Tags=[{"Key": "n", "Value": str(n)}]
        )
    sizes: list[int] = []
    original = AwsSession.client

    def count(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["ResourceArns"]))

    def client(self: AwsSession, service: str, region: str) -> Any:
        c = original(self, service, region)
        c.meta.events.register("provide-client-params.elastic-load-balancing-v2.DescribeTags", count, unique_id="n")
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    tgs = of(scan(moto_url, acct, redactor), "aws_lb_target_group")
    assert len(tgs) == 21 and all(r.tags == {"n": r.name.split("-")[1]} for r in tgs.values())
    assert sorted(sizes, reverse=True) == [20, 1]
