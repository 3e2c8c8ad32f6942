"""EC2 types against moto's server: VPCs, subnets, route tables, security groups and their rules (three
Terraform shapes, one deterministic id each), instances and volumes, in two regions of a fresh account.
Every moto account/region starts with a default VPC, default subnets and a default security group: they
must come out AWS-managed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from conftest import CORPUS, account_session, new_account, scan_aws
from parity.compare.codelive import compare_code_live
from parity.compare.types import Inventory, Rules
from parity.model import Resource, Snapshot
from parity.normalize.canonical import canonicalize
from parity.redact import Redactor
from parity.registry import type_info
from parity.sources.aws.types.ec2 import protocol_name, sgrule_id, user_data_digest

REGIONS = ["eu-west-1", "us-east-1"]


def scan(moto_url: str, account: str, redactor: Redactor, include: list[str]) -> Snapshot:
    return scan_aws(moto_url, account, redactor, include, tuple(REGIONS))


def of(snap: Snapshot, type_: str) -> dict[str, Resource]:
    return {r.id: r for r in snap.resources if r.type == type_}


def ec2(moto_url: str, account: str, region: str) -> Any:
    return account_session(moto_url, account, region).client("ec2", endpoint_url=moto_url)  # type: ignore[attr-defined]


def named(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def test_vpcs_subnets_route_tables_and_aws_defaults(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    west, east = ec2(moto_url, acct, "eu-west-1"), ec2(moto_url, acct, "us-east-1")
    vpc = west.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=named("vpc", "shop-staging"))["Vpc"]["VpcId"]
    west.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    sub = west.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
    west.modify_subnet_attribute(SubnetId=sub, MapPublicIpOnLaunch={"Value": True})
    igw = west.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    west.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rtb = west.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    west.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    west.create_tags(Resources=[rtb], Tags=[{"Key": "Name", "Value": "public"}])
    east_vpc = east.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]

    snap = scan(moto_url, acct, redactor, ["aws_vpc", "aws_subnet", "aws_route_table"])
    vpcs = of(snap, "aws_vpc")
    assert vpc in vpcs and east_vpc in vpcs
    defaults = [r for r in vpcs.values() if r.id not in (vpc, east_vpc)]
    assert len(defaults) == 2 and all(r.owner == "aws-managed" and r.name == "default" for r in defaults)
    mine = vpcs[vpc]
    assert mine.owner == "none" and mine.name == "shop-staging" and mine.tags == {"Name": "shop-staging"}
    assert mine.key == f"arn:aws:ec2:eu-west-1:{acct}:vpc/{vpc}"
    assert {k: mine.attributes[k] for k in ("cidr_block", "instance_tenancy", "enable_dns_hostnames")} == {
        "cidr_block": "10.1.0.0/16", "instance_tenancy": "default", "enable_dns_hostnames": True}  # fmt: skip
    assert mine.attributes["enable_dns_support"] is True
    assert vpcs[east_vpc].key.startswith("arn:aws:ec2:us-east-1:")

    subnets = of(snap, "aws_subnet")
    assert subnets[sub].owner == "none"
    assert subnets[sub].attributes["map_public_ip_on_launch"] is True
    assert subnets[sub].attributes["availability_zone"] == "eu-west-1a"
    assert subnets[sub].attributes["vpc_id"] == vpc
    default_subnets = [r for r in subnets.values() if r.id != sub]
    assert default_subnets and all(r.owner == "aws-managed" for r in default_subnets)

    tables = of(snap, "aws_route_table")
    assert tables[rtb].owner == "none" and tables[rtb].name == "public"
    (route,) = tables[rtb].attributes["route"]  # the local route is not Terraform's: left out
    assert route["cidr_block"] == "0.0.0.0/0" and route["gateway_id"] == igw and route["nat_gateway_id"] == ""
    mains = [r for r in tables.values() if r.attributes["vpc_id"] in (vpc, east_vpc) and r.id != rtb]
    assert len(mains) == 2 and all(r.owner == "aws-managed" and r.attributes["route"] == [] for r in mains)


def test_security_group_rules_three_ways_one_id_each(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    c = ec2(moto_url, acct, "eu-west-1")
    vpc = c.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    web = c.create_security_group(GroupName="shop-web", Description="web tier", VpcId=vpc)["GroupId"]
    lb = c.create_security_group(GroupName="shop-lb", Description="lb", VpcId=vpc)["GroupId"]
    c.create_tags(Resources=[web], Tags=[{"Key": "team", "Value": "shop"}])
    c.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "https"},
                      {"CidrIp": "192.168.0.0/16", "Description": "https"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": lb}]},
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": web}]},
    ])  # fmt: skip

    # (no description on the group reference: moto's DescribeSecurityGroupRules drops those)
    snap = scan(moto_url, acct, redactor, ["aws_security_group*", "aws_vpc_security_group_*"])
    groups = of(snap, "aws_security_group")
    g = groups[web]
    assert g.name == "shop-web" and g.owner == "none" and g.tags == {"team": "shop"}
    assert g.attributes["description"] == "web tier" and g.attributes["vpc_id"] == vpc
    blank = {"cidr_blocks": [], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}
    assert g.attributes["ingress"] == [
        {**blank, "protocol": "-1", "from_port": 0, "to_port": 0, "description": "", "self": True},
        {**blank, "protocol": "tcp", "from_port": 443, "to_port": 443, "description": "https",
         "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"]},
        {**blank, "protocol": "tcp", "from_port": 8080, "to_port": 8080, "description": "", "security_groups": [lb]},
    ]  # fmt: skip
    assert g.attributes["egress"] == [{**blank, "protocol": "-1", "from_port": 0, "to_port": 0, "description": "",
                                       "cidr_blocks": ["0.0.0.0/0"]}]  # fmt: skip
    defaults = [r for r in groups.values() if r.attributes["name"] == "default"]  # named VPC/default for pairing
    assert len(defaults) == 3 and all(r.owner == "aws-managed" for r in defaults)  # 2 default VPCs and ours

    # aws_security_group_rule: the CIDRs of one (ports, description) are one Terraform rule, each
    # referenced group its own; the id is the provider's, computed from a state's attributes the same way.
    https_state = {"security_group_id": web, "type": "ingress", "protocol": "6", "from_port": 443, "to_port": 443,
                   "cidr_blocks": ["192.168.0.0/16", "10.0.0.0/8"], "description": "https", "self": False}  # fmt: skip
    from_lb = {"security_group_id": web, "type": "ingress", "protocol": "tcp", "from_port": 8080, "to_port": 8080,
               "source_security_group_id": lb}  # fmt: skip
    self_all = {"security_group_id": web, "type": "ingress", "protocol": "all", "from_port": 0, "to_port": 65535,
                "self": True}  # fmt: skip
    egress_all = {"security_group_id": web, "type": "egress", "protocol": "-1", "from_port": 0, "to_port": 0,
                  "cidr_blocks": ["0.0.0.0/0"]}  # fmt: skip
    rules = {r.id: r for r in of(snap, "aws_security_group_rule").values() if r.attributes["security_group_id"] == web}
    info = type_info("aws_security_group_rule")
    assert (
        info is not None and info.native_id is sgrule_id and info.parent == ("aws_security_group", "security_group_id")
    )
    expected = {sgrule_id(s) for s in (https_state, from_lb, self_all, egress_all)}
    assert set(rules) == expected and all(i and i.startswith("sgrule-") for i in expected)
    https = rules[str(sgrule_id(https_state))]
    assert https.attributes["cidr_blocks"] == ["10.0.0.0/8", "192.168.0.0/16"]
    assert (
        https.attributes["description"] == "https"
        and https.name == "shop-web/ingress/tcp/443-443/10.0.0.0/8,192.168.0.0/16"
    )
    lb_rule = rules[str(sgrule_id(from_lb))]
    assert lb_rule.attributes["source_security_group_id"] == lb and lb_rule.name.endswith("/shop-lb")  # by name
    assert rules[str(sgrule_id(self_all))].attributes["self"] is True

    # the provider-v5 per-rule resources: one per source, id sgr-…
    ingress = [r for r in of(snap, "aws_vpc_security_group_ingress_rule").values()
               if r.attributes["security_group_id"] == web]  # fmt: skip
    assert len(ingress) == 4 and all(r.id.startswith("sgr-") and r.owner == "none" for r in ingress)
    cidrs = sorted(str(r.attributes["cidr_ipv4"]) for r in ingress if r.attributes["cidr_ipv4"])
    assert cidrs == ["10.0.0.0/8", "192.168.0.0/16"]
    ref = [r for r in ingress if r.attributes["referenced_security_group_id"] == lb]
    assert len(ref) == 1 and ref[0].attributes["from_port"] == 8080 and ref[0].attributes["description"] is None
    all_in = [r for r in ingress if r.attributes["ip_protocol"] == "-1"]
    assert all_in[0].attributes["from_port"] is None and all_in[0].key.startswith(f"arn:aws:ec2:eu-west-1:{acct}:")
    egress = of(snap, "aws_vpc_security_group_egress_rule").values()
    default_sg_ids = {r.id for r in defaults}
    assert egress and all(r.owner == ("aws-managed" if r.attributes["security_group_id"] in default_sg_ids else "none")
                          for r in egress)  # fmt: skip

    # Code vs live (canonical snapshots, as the pipeline compares them): a state with the group and two
    # rules, one under a stale id (native_id recomputes it), one not live. The group's live rules are
    # its children: none is "unmanaged".
    declared = [
        Resource(type="aws_security_group", id=web, key="aws_security_group.web", owner="terraform",
                 attributes={k: g.attributes[k] for k in ("description", "ingress", "egress")}, tags=g.tags),
        Resource(type="aws_security_group_rule", id="sgrule-0", key="aws_security_group_rule.https", owner="terraform",
                 attributes={**https_state, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"]}),
        Resource(type="aws_security_group_rule", id="sgrule-1", key="aws_security_group_rule.gone", owner="terraform",
                 attributes={**from_lb, "from_port": 9999, "to_port": 9999}),
    ]  # fmt: skip
    state = Snapshot(environment="staging", source="tf", kind="terraform-state", role="declared",
                     collected_at=snap.collected_at, resources=tuple(declared))  # fmt: skip
    result = compare_code_live(Inventory("staging", (canonicalize(state), canonicalize(snap))), Rules(tokens={}))
    kinds = {(f.kind, f.type, f.resources["staging"]) for f in result.findings}
    assert [k for k in kinds if k[0] == "missing"] == [("missing", "aws_security_group_rule", "sgrule-1")]
    assert not [f.changes for f in result.findings if f.kind == "changed"]
    web_rules = {r.id for r in snap.resources if r.type.endswith("rule") and r.attributes["security_group_id"] == web}
    assert not [k for k in kinds if k[0] == "unmanaged" and k[2] in web_rules]
    assert ("unmanaged", "aws_security_group", lb) in kinds


def test_sgrule_id_reproduces_the_providers_ids_in_a_real_state() -> None:
    path = CORPUS / "terraform-states" / "aws_vpc_security_group_rule" / "terraform.tfstate"
    if not path.exists():
        pytest.skip(f"corpus not found at {path}")
    state = json.loads(path.read_text())
    rules = [
        i["attributes"] for r in state["resources"] if r["type"] == "aws_security_group_rule" for i in r["instances"]
    ]
    assert len(rules) >= 5
    for attrs in rules:
        assert sgrule_id(attrs) == attrs["id"], attrs["description"]
    changed = {**rules[0], "from_port": 1, "protocol": "tcp"}
    assert sgrule_id(changed) != rules[0]["id"]


def test_protocol_names_follow_the_provider() -> None:
    assert [protocol_name(p) for p in ("6", "TCP", "17", "1", "58", "all", "-1", "50")] == [
        "tcp", "tcp", "udp", "icmp", "icmpv6", "-1", "-1", "50"]  # fmt: skip


def test_instances_and_volumes(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    sess = account_session(moto_url, acct, "eu-west-1")
    iam = sess.client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]
    iam.create_instance_profile(InstanceProfileName="shop-app", Path="/apps/")
    c = ec2(moto_url, acct, "eu-west-1")
    vpc = c.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    sub = c.create_subnet(VpcId=vpc, CidrBlock="10.4.1.0/24")["Subnet"]["SubnetId"]
    sg = c.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    script = "#!/bin/sh\nexport DB_PASSWORD=hunter2\n"
    inst = c.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.small", SubnetId=sub,
                           SecurityGroupIds=[sg], UserData=script, Monitoring={"Enabled": True},
                           IamInstanceProfile={"Name": "shop-app"},
                           TagSpecifications=named("instance", "app-1"))["Instances"][0]["InstanceId"]  # fmt: skip
    east = ec2(moto_url, acct, "us-east-1")
    vol = east.create_volume(AvailabilityZone="us-east-1a", Size=20, VolumeType="gp3", Encrypted=True,
                             TagSpecifications=named("volume", "data"))  # fmt: skip

    snap = scan(moto_url, acct, redactor, ["aws_instance", "aws_ebs_volume"])
    (i,) = of(snap, "aws_instance").values()
    assert i.id == inst and i.name == "app-1" and i.owner == "none"
    a = i.attributes
    assert (a["instance_type"], a["ami"], a["subnet_id"]) == ("t3.small", "ami-12345678", sub)
    assert a["vpc_security_group_ids"] == [sg] and a["monitoring"] is True
    assert a["iam_instance_profile"] == "shop-app"
    assert a["user_data"] == hashlib.sha1(script.encode()).hexdigest()  # Terraform's state form
    assert "hunter2" not in json.dumps(a)
    vols = of(snap, "aws_ebs_volume")
    data = vols[vol["VolumeId"]]
    assert data.name == "data" and data.key.startswith("arn:aws:ec2:us-east-1:")
    assert (data.attributes["size"], data.attributes["type"], data.attributes["encrypted"]) == (20, "gp3", True)
    assert "launched_with_instance" not in data.attributes
    roots = [r for r in vols.values() if r.id != vol["VolumeId"]]
    assert len(roots) == 1 and roots[0].key.startswith("arn:aws:ec2:eu-west-1:")  # the instance's root volume


def test_a_volume_launched_with_its_instance_is_its_child(redactor: Redactor) -> None:
    """moto's volume attachments carry no DeleteOnTermination (checked: moto.ec2 VolumeAttachment has no
    such field), so this one test answers DescribeVolumes with a recorded AWS response via Stubber."""
    import boto3
    from botocore.stub import Stubber

    from parity.sources.aws.spec import Fetch, listers

    client = boto3.client("ec2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    attached = {"InstanceId": "i-0abc", "VolumeId": "vol-root", "Device": "/dev/xvda", "State": "attached"}
    answer = {"Volumes": [
        {"VolumeId": "vol-root", "Size": 8, "VolumeType": "gp3", "AvailabilityZone": "eu-west-1a", "Encrypted": False,
         "Iops": 3000, "Throughput": 125, "Attachments": [{**attached, "DeleteOnTermination": True}]},
        {"VolumeId": "vol-data", "Size": 100, "VolumeType": "gp3", "AvailabilityZone": "eu-west-1a", "Encrypted": True,
         "Attachments": [{**attached, "VolumeId": "vol-data", "Device": "/dev/sdf", "DeleteOnTermination": False}]},
    ]}  # fmt: skip
    with Stubber(client) as stub:
        stub.add_response("describe_volumes", answer, {})
        fetch = Fetch("123456789012", "eu-west-1", "aws", redactor, lambda service, region: client)
        found = {r.id: r for r in listers()["ec2.volumes"].fetch(fetch)}
    assert found["vol-root"].attributes["launched_with_instance"] == "i-0abc"
    assert found["vol-root"].attributes["throughput"] == 125
    assert "launched_with_instance" not in found["vol-data"].attributes  # attached by hand: its own resource
    assert type_info("aws_ebs_volume").parent == ("aws_instance", "launched_with_instance")  # type: ignore[union-attr]


def test_user_data_digest() -> None:
    assert user_data_digest(None) is None and user_data_digest("") is None
    assert user_data_digest("aGk=") == hashlib.sha1(b"hi").hexdigest()
