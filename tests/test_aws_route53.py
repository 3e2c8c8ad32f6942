"""Route 53 types against moto's server: zones (public, private with VPCs), records with Terraform's ids,
and the mapping from a state's record (whose name may be relative to the zone) to the live id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import CORPUS, account_session, new_account, scan_aws
from parity.model import Resource, Snapshot
from parity.redact import Redactor
from parity.registry import type_info
from parity.sources.aws.types.route53 import dns_name, record_native_id


def scan(moto_url: str, account: str, redactor: Redactor) -> Snapshot:
    return scan_aws(moto_url, account, redactor, ["aws_route53_*"])


def of(snap: Snapshot, type_: str) -> dict[str, Resource]:
    return {r.id: r for r in snap.resources if r.type == type_}


def change(name: str, type_: str, **rr: Any) -> dict[str, Any]:
    return {"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": type_, **rr}}


def test_zones_and_records(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    sess = account_session(moto_url, acct)
    r53 = sess.client("route53", endpoint_url=moto_url)  # type: ignore[attr-defined]
    vpc = sess.client("ec2", endpoint_url=moto_url).create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]  # type: ignore[attr-defined]
    zid = r53.create_hosted_zone(Name="staging.shop.example.", CallerReference="a",
                                 HostedZoneConfig={"Comment": "public"})["HostedZone"]["Id"].split("/")[-1]  # fmt: skip
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zid, AddTags=[{"Key": "env", "Value": "stg"}])
    private = r53.create_hosted_zone(Name="internal.shop.example", CallerReference="b",
                                     VPC={"VPCRegion": "eu-west-1", "VPCId": vpc},
                                     HostedZoneConfig={"PrivateZone": True})["HostedZone"]["Id"]  # fmt: skip
    private = private.split("/")[-1]
    rrs = lambda *vs: [{"Value": v} for v in vs]  # noqa: E731
    canary = "canary.staging.shop.example"
    r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
        change("API.staging.shop.example.", "A", TTL=300, ResourceRecords=rrs("10.0.0.2", "10.0.0.1")),
        change("staging.shop.example", "TXT", TTL=60, ResourceRecords=rrs('"v=spf1 -all"')),
        change("*.staging.shop.example", "CNAME", TTL=60, ResourceRecords=rrs("api.staging.shop.example")),
        change("www.staging.shop.example", "A", AliasTarget={"HostedZoneId": zid, "EvaluateTargetHealth": False,
                                                               "DNSName": "api.staging.shop.example."}),
        change(canary, "A", SetIdentifier="blue", Weight=90, TTL=60, ResourceRecords=rrs("10.0.1.1")),
        change(canary, "A", SetIdentifier="green", Weight=10, TTL=60, ResourceRecords=rrs("10.0.2.1")),
    ]})  # fmt: skip

    snap = scan(moto_url, acct, redactor)
    zones = of(snap, "aws_route53_zone")
    assert set(zones) == {zid, private}
    z = zones[zid]
    assert z.name == "staging.shop.example" and z.key == f"arn:aws:route53:::hostedzone/{zid}"
    assert z.attributes["comment"] == "public" and z.tags == {"env": "stg"} and z.attributes["vpc"] == []
    assert z.owner == "none" and z.origin == f"aws:{acct}/eu-west-1"  # global: listed once
    assert zones[private].attributes["vpc"] == [{"vpc_id": vpc, "vpc_region": "eu-west-1"}]

    records = of(snap, "aws_route53_record")
    mine = {k: r for k, r in records.items() if k.startswith(zid)}
    assert set(mine) == {f"{zid}_{n}" for n in (
        "staging.shop.example_NS", "staging.shop.example_SOA", "staging.shop.example_TXT", "api.staging.shop.example_A",
        "*.staging.shop.example_CNAME", "www.staging.shop.example_A", "canary.staging.shop.example_A_blue",
        "canary.staging.shop.example_A_green")}  # fmt: skip
    assert all(r.origin == f"aws:{acct}/eu-west-1" for r in records.values())
    api = mine[f"{zid}_api.staging.shop.example_A"]
    assert api.attributes["records"] == ["10.0.0.1", "10.0.0.2"] and api.attributes["ttl"] == 300
    assert api.owner == "none" and api.name == "api.staging.shop.example_A"
    assert mine[f"{zid}_staging.shop.example_TXT"].attributes["records"] == ["v=spf1 -all"]
    www = mine[f"{zid}_www.staging.shop.example_A"].attributes
    assert www["alias"] == [{"name": "api.staging.shop.example", "zone_id": zid, "evaluate_target_health": False}]
    assert www["ttl"] is None and www["records"] == []
    assert mine[f"{zid}_canary.staging.shop.example_A_blue"].attributes["weighted_routing_policy"] == [{"weight": 90}]
    for t in ("NS", "SOA"):
        assert mine[f"{zid}_staging.shop.example_{t}"].owner == "aws-managed"
    assert {r.owner for k, r in mine.items() if not k.endswith(("_NS", "_SOA"))} == {"none"}

    # A state names records relative to the zone or in full: both map onto the live id.
    relative = {"zone_id": zid, "name": "api", "fqdn": "api.staging.shop.example", "type": "A", "set_identifier": None}
    assert record_native_id(relative) == api.id
    weighted = {"zone_id": zid, "name": "Canary.staging.shop.example.", "type": "A", "set_identifier": "green"}
    assert record_native_id(weighted) in mine
    info = type_info("aws_route53_record")
    assert info is not None and info.native_id is record_native_id and info.parent is None


def test_record_native_id_on_a_real_state() -> None:
    path = CORPUS / "terraform-states" / "aws_route53_record" / "terraform.tfstate"
    if not path.exists():
        pytest.skip(f"corpus not found at {path}")
    state = json.loads(path.read_text())
    by_id = {i["attributes"]["id"]: i["attributes"] for r in state["resources"] if r["type"] == "aws_route53_record"
             for i in r["instances"]}  # fmt: skip
    apex = by_id["Z09368953G729AFEX5048_elie.ski_NS"]  # declared with its full name: the ids agree
    assert record_native_id(apex) == apex["id"]
    relative = by_id["Z09368953G729AFEX5048_test_A"]  # declared as "test": the live id uses the full name
    assert record_native_id(relative) == "Z09368953G729AFEX5048_test.elie.ski_A"


def test_dns_names() -> None:
    assert dns_name("\\052.Example.COM.") == "*.example.com"
    assert dns_name("example.com") == "example.com"
