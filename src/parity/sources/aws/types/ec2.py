"""EC2 networking and compute: VPCs, subnets, security groups and their rules, route tables, instances, volumes.

Security group rules are one object AWS stores three ways in Terraform, and all three are emitted so a
state written any way compares: inline ``ingress``/``egress`` blocks on ``aws_security_group`` (grouped
the way the provider flattens them: by protocol, ports and description), ``aws_security_group_rule``
(one rule per protocol, ports, description and source kind; its id is the provider's own
``sgrule-<crc32>`` computed from the rule's fields, so a state's id and the live id agree without a
lookup; :func:`sgrule_id` is also its ``native_id``), and the provider-v5 per-rule resources
``aws_vpc_security_group_{ingress,egress}_rule`` (id = the rule's ``sgr-`` id). Rules are children of
their group: a declared group makes its live rules managed.

AWS-made defaults are ``aws_managed``: the default VPC and its default subnets, each VPC's main route
table, every ``default`` security group and the rules AWS puts in it. Instance ``user_data`` is never
kept: it is stored as the SHA-1 hex digest of its decoded bytes, which is exactly what Terraform's state
holds for it (so it compares), never the text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

# botocore is imported by the functions that catch its errors, when they run: every command that collects
# imports this module (parity.registry loads every source), with an AWS source or not.
from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

# The provider's ProtocolForValue: numbers of the named protocols (and "all") become their names.
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}


def protocol_name(value: object) -> str:
    p = str(value).lower()
    return _PROTOCOL_NAMES.get(p, p)


def _strs(value: object) -> list[str]:
    return sorted(str(v) for v in value) if isinstance(value, list) else []


def sgrule_id(attrs: Mapping[str, Any]) -> str | None:
    """Terraform's id of an ``aws_security_group_rule`` from its attributes (the provider's
    ``IPPermissionIDHash``: crc32 over group, ports, protocol, type and the sorted sources)."""
    sg, kind = attrs.get("security_group_id"), attrs.get("type")
    if not sg or kind not in ("ingress", "egress"):
        return None
    proto = protocol_name(attrs.get("protocol", ""))
    buf = f"{sg}-"
    if proto != "-1":  # the provider sends no ports for "all traffic"
        for port in (attrs.get("from_port"), attrs.get("to_port")):
            if isinstance(port, int) and port > 0:
                buf += f"{port}-"
    buf += f"{proto}-{kind}-"
    for key in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"):
        buf += "".join(f"{v}-" for v in _strs(attrs.get(key)))
    groups = {str(attrs["source_security_group_id"])} if attrs.get("source_security_group_id") else set()
    if attrs.get("self"):
        groups.add(str(sg))
    buf += "".join(f"{g}--" for g in sorted(g.split("/")[-1] for g in groups))  # GroupId, no GroupName
    return f"sgrule-{zlib.crc32(buf.encode())}"


def _tags(obj: Mapping[str, Any]) -> dict[str, str]:
    return tags_from_list(obj.get("Tags", []))


def _ec2_arn(f: Fetch, kind: str, id_: str) -> str:
    return f.arn("ec2", f"{kind}/{id_}")


# VPCs and subnets --------------------------------------------------------------------------------------


def _vpcs(f: Fetch) -> Iterator[Resource]:
    ec2 = f.client("ec2")
    for page in f.pages(ec2, "describe_vpcs"):
        for v in page.get("Vpcs", []):
            vid, tags = v["VpcId"], _tags(v)
            dns = {
                tf: bool(ec2.describe_vpc_attribute(VpcId=vid, Attribute=api).get(key, {}).get("Value"))
                for tf, api, key in (("enable_dns_support", "enableDnsSupport", "EnableDnsSupport"),
                                     ("enable_dns_hostnames", "enableDnsHostnames", "EnableDnsHostnames"))
            }  # fmt: skip
            ipv6 = [a["Ipv6CidrBlock"] for a in v.get("Ipv6CidrBlockAssociationSet", []) if a.get("Ipv6CidrBlock")]
            attrs: dict[str, Json] = {"cidr_block": v.get("CidrBlock", ""), "instance_tenancy": v.get("InstanceTenancy",
                                      "default"), "ipv6_cidr_block": ipv6[0] if ipv6 else "",
                                      "dhcp_options_id": v.get("DhcpOptionsId", ""), "owner_id": v.get("OwnerId", ""),
                                      **dns}  # fmt: skip
            default = bool(v.get("IsDefault"))
            yield f.resource("aws_vpc", vid, name=tags.get("Name") or ("default" if default else vid),
                             arn=_ec2_arn(f, "vpc", vid), attributes=attrs, tags=tags, aws_managed=default)  # fmt: skip


def _vpc_label(v: Mapping[str, Any]) -> str:
    """How a VPC is named for pairing: its Name tag, ``default`` for the default VPC, else its id."""
    return _tags(v).get("Name") or ("default" if v.get("IsDefault") else str(v["VpcId"]))


def _vpc_labels(f: Fetch) -> dict[str, str]:
    """Every VPC's label by id, so that what AWS makes once per VPC (a ``default`` group, a main route
    table) is named by its VPC and pairs across environments: by VPC id, each account's default VPC and
    each custom VPC held one ``default`` group, and the names were ambiguous (every one ``only_in``)."""
    import botocore.exceptions

    try:
        return {str(v["VpcId"]): _vpc_label(v) for page in f.pages(f.client("ec2"), "describe_vpcs")
                for v in page.get("Vpcs", [])}  # fmt: skip
    except botocore.exceptions.ClientError:
        return {}  # not allowed to list VPCs: named by VPC id, as before (less pairable, never wrong)


def _subnets(f: Fetch) -> Iterator[Resource]:
    for page in f.pages(f.client("ec2"), "describe_subnets"):
        for s in page.get("Subnets", []):
            sid, tags = s["SubnetId"], _tags(s)
            ipv6 = [a["Ipv6CidrBlock"] for a in s.get("Ipv6CidrBlockAssociationSet", []) if a.get("Ipv6CidrBlock")]
            attrs: dict[str, Json] = {
                "vpc_id": s.get("VpcId", ""),
                "cidr_block": s.get("CidrBlock", ""),
                "ipv6_cidr_block": ipv6[0] if ipv6 else "",
                "availability_zone": s.get("AvailabilityZone", ""),
                "map_public_ip_on_launch": bool(s.get("MapPublicIpOnLaunch")),
                "assign_ipv6_address_on_creation": bool(s.get("AssignIpv6AddressOnCreation")),
            }
            default = bool(s.get("DefaultForAz"))
            name = tags.get("Name") or (f"default/{attrs['availability_zone']}" if default else sid)
            yield f.resource("aws_subnet", sid, name=name, arn=s.get("SubnetArn") or _ec2_arn(f, "subnet", sid),
                             attributes=attrs, tags=tags, aws_managed=default)  # fmt: skip


# Security groups and rules -----------------------------------------------------------------------------


def _atom(r: Mapping[str, Any]) -> dict[str, Any]:
    """One rule of DescribeSecurityGroupRules in plain terms (ports 0 for "all traffic", as Terraform)."""
    proto = protocol_name(r.get("IpProtocol", "-1"))
    ref = r.get("ReferencedGroupInfo") or {}
    return {"id": r["SecurityGroupRuleId"], "sg": r["GroupId"], "owner": r.get("GroupOwnerId", ""),
            "type": "egress" if r.get("IsEgress") else "ingress", "protocol": proto,
            "from": 0 if proto == "-1" else int(r.get("FromPort", 0)),
            "to": 0 if proto == "-1" else int(r.get("ToPort", 0)),
            "cidr4": r.get("CidrIpv4"), "cidr6": r.get("CidrIpv6"), "pl": r.get("PrefixListId"),
            "ref": ref.get("GroupId"), "ref_user": ref.get("UserId"), "desc": r.get("Description") or "",
            "tags": _tags(r)}  # fmt: skip


def _is_default_rule(a: Mapping[str, Any]) -> bool:
    """The rules AWS puts in a ``default`` group: all traffic in from itself, all traffic out."""
    if a["protocol"] != "-1" or a["desc"]:
        return False
    if a["type"] == "ingress":
        return bool(a["ref"] == a["sg"])
    return bool(a["cidr4"] == "0.0.0.0/0" or a["cidr6"] == "::/0")


def _ref_name(a: Mapping[str, Any]) -> str:
    """A referenced group as Terraform writes it: ``sg-…``, or ``account/sg-…`` across accounts."""
    user = a.get("ref_user")
    return f"{user}/{a['ref']}" if user and a.get("owner") and user != a["owner"] else str(a["ref"])


def _inline(atoms: list[dict[str, Any]], sg: str) -> list[Json]:
    """Inline ``ingress``/``egress`` blocks, grouped as the provider does (protocol, ports, description)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for a in atoms:
        k = (a["protocol"], a["from"], a["to"], a["desc"])
        rule = groups.setdefault(k, {"protocol": a["protocol"], "from_port": a["from"], "to_port": a["to"],
                                     "description": a["desc"], "cidr_blocks": [], "ipv6_cidr_blocks": [],
                                     "prefix_list_ids": [], "security_groups": [], "self": False})  # fmt: skip
        for key, field in (("cidr4", "cidr_blocks"), ("cidr6", "ipv6_cidr_blocks"), ("pl", "prefix_list_ids")):
            if a[key]:
                rule[field].append(a[key])
        if a["ref"] == sg:
            rule["self"] = True
        elif a["ref"]:
            rule["security_groups"].append(_ref_name(a))
    out = [{k: sorted(v) if isinstance(v, list) else v for k, v in r.items()} for r in groups.values()]
    return sorted(out, key=lambda r: (r["protocol"], r["from_port"], r["to_port"], r["description"], str(r)))


def _rule_groups(atoms: list[dict[str, Any]]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Atoms grouped into ``aws_security_group_rule`` units: one per (direction, protocol, ports,
    description) for the address sources (CIDRs and prefix lists may share a rule in Terraform), one
    per referenced group (``source_security_group_id`` holds one)."""
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for a in atoms:
        out[(a["type"], a["protocol"], a["from"], a["to"], a["desc"], a["ref"] or "")].append(a)
    return out


def _group_names(groups: list[Mapping[str, Any]], vpcs: Mapping[str, str]) -> dict[str, str]:
    """Each group's name for pairing and display: a VPC's ``default`` group is ``VPC/default`` (one per
    VPC), and a group name used in more than one VPC of the listing is qualified by its VPC the same way;
    any other keeps its own name (group names are unique within a VPC only)."""
    count: dict[str, int] = defaultdict(int)
    for g in groups:
        count[str(g.get("GroupName", ""))] += 1
    out: dict[str, str] = {}
    for g in groups:
        name, vpc = str(g.get("GroupName", "")), str(g.get("VpcId", ""))
        qualify = vpc and (name == "default" or count[name] > 1)
        out[str(g["GroupId"])] = f"{vpcs.get(vpc, vpc)}/{name}" if qualify else name or str(g["GroupId"])
    return out


def _security_groups(f: Fetch) -> Iterator[Resource]:
    ec2 = f.client("ec2")
    groups = [g for page in f.pages(ec2, "describe_security_groups") for g in page.get("SecurityGroups", [])]
    names = _group_names(groups, _vpc_labels(f))
    atoms: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in f.pages(ec2, "describe_security_group_rules"):
        for r in page.get("SecurityGroupRules", []):
            atoms[r["GroupId"]].append(_atom(r))
    for g in groups:
        sg, tags, group_name = g["GroupId"], _tags(g), g.get("GroupName", "")
        default = group_name == "default"
        name = names[sg]
        mine = sorted(atoms.get(sg, []), key=lambda a: str(sorted(a.items())))
        attrs: dict[str, Json] = {"name": group_name, "description": g.get("Description", ""),
                                  "vpc_id": g.get("VpcId", ""),
                                  "owner_id": g.get("OwnerId", ""),
                                  "ingress": _inline([a for a in mine if a["type"] == "ingress"], sg),
                                  "egress": _inline([a for a in mine if a["type"] == "egress"], sg)}  # fmt: skip
        arn = g.get("SecurityGroupArn") or _ec2_arn(f, "security-group", sg)
        yield f.resource("aws_security_group", sg, name=name, arn=arn, attributes=attrs, tags=tags,
                         aws_managed=default)  # fmt: skip
        for a in mine:
            tf = f"aws_vpc_security_group_{a['type']}_rule"
            proto_all = a["protocol"] == "-1"
            rattrs: dict[str, Json] = {
                "security_group_id": sg, "security_group_rule_id": a["id"], "ip_protocol": a["protocol"],
                "from_port": None if proto_all else a["from"], "to_port": None if proto_all else a["to"],
                "cidr_ipv4": a["cidr4"], "cidr_ipv6": a["cidr6"], "prefix_list_id": a["pl"],
                "referenced_security_group_id": _ref_name(a) if a["ref"] else None, "description": a["desc"] or None,
            }  # fmt: skip
            yield f.resource(tf, a["id"], name=f"{name}/{_rule_label(a, names)}", tags=a["tags"],
                             arn=_ec2_arn(f, "security-group-rule", a["id"]), attributes=rattrs,
                             aws_managed=default and _is_default_rule(a))  # fmt: skip
        for (kind, proto, lo, hi, desc, ref), members in sorted(_rule_groups(mine).items()):
            rule: dict[str, Any] = {
                "security_group_id": sg, "type": kind, "protocol": proto, "from_port": lo, "to_port": hi,
                "cidr_blocks": sorted(a["cidr4"] for a in members if a["cidr4"]),
                "ipv6_cidr_blocks": sorted(a["cidr6"] for a in members if a["cidr6"]),
                "prefix_list_ids": sorted(a["pl"] for a in members if a["pl"]),
                "self": ref == sg, "source_security_group_id": _ref_name(members[0]) if ref else None,
                "description": desc,
            }  # fmt: skip
            rid = sgrule_id(rule) or ""  # never empty: security_group_id and type are set
            label = f"{kind}/{proto}/{lo}-{hi}/" + ",".join(sorted(_source(a, names) for a in members))
            yield f.resource("aws_security_group_rule", rid, name=f"{name}/{label}", attributes=rule,
                             aws_managed=default and all(_is_default_rule(a) for a in members))  # fmt: skip


def _source(a: Mapping[str, Any], names: Mapping[str, str]) -> str:
    if a["ref"]:
        return "self" if a["ref"] == a["sg"] else names.get(a["ref"], _ref_name(a))
    return str(a["cidr4"] or a["cidr6"] or a["pl"])


def _rule_label(a: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """An environment-independent name for a rule (referenced groups by name, not id) for pairing."""
    return f"{a['type']}/{a['protocol']}/{a['from']}-{a['to']}/{_source(a, names)}"


# Route tables ------------------------------------------------------------------------------------------

_ROUTE_TARGETS = {
    "DestinationCidrBlock": "cidr_block", "DestinationIpv6CidrBlock": "ipv6_cidr_block",
    "DestinationPrefixListId": "destination_prefix_list_id", "GatewayId": "gateway_id",
    "NatGatewayId": "nat_gateway_id", "NetworkInterfaceId": "network_interface_id",
    "TransitGatewayId": "transit_gateway_id", "VpcPeeringConnectionId": "vpc_peering_connection_id",
    "EgressOnlyInternetGatewayId": "egress_only_gateway_id", "LocalGatewayId": "local_gateway_id",
    "CarrierGatewayId": "carrier_gateway_id", "CoreNetworkArn": "core_network_arn",
}  # fmt: skip


def _routes(routes: list[Mapping[str, Any]]) -> list[Json]:
    """Terraform's ``route`` blocks: the local route, propagated routes and gateway-endpoint (prefix list)
    routes are left out and a ``vpce-`` target is ``vpc_endpoint_id``, as the provider reads them."""
    out: list[dict[str, Json]] = []
    for r in routes:
        gw = str(r.get("GatewayId", ""))
        if gw == "local" or r.get("Origin") == "EnableVgwRoutePropagation":
            continue
        if gw.startswith("vpce-") and r.get("DestinationPrefixListId"):
            continue
        route: dict[str, Json] = {tf: str(r.get(api) or "") for api, tf in _ROUTE_TARGETS.items()}
        route["vpc_endpoint_id"] = gw if gw.startswith("vpce-") else ""
        if gw.startswith("vpce-"):
            route["gateway_id"] = ""
        out.append(route)
    return sorted(out, key=lambda d: tuple(str(v) for v in d.values()))


def _route_tables(f: Fetch) -> Iterator[Resource]:
    vpcs: dict[str, str] | None = None
    for page in f.pages(f.client("ec2"), "describe_route_tables"):
        for t in page.get("RouteTables", []):
            rid, tags = t["RouteTableId"], _tags(t)
            main = any(a.get("Main") for a in t.get("Associations", []))
            attrs: dict[str, Json] = {
                "vpc_id": t.get("VpcId", ""),
                "owner_id": t.get("OwnerId", ""),
                "route": _routes(t.get("Routes", [])),
                "propagating_vgws": sorted(str(p["GatewayId"]) for p in t.get("PropagatingVgws", [])),
            }
            name = tags.get("Name")
            if not name and main:  # one per VPC, made by AWS: named by its VPC (see _vpc_labels)
                vpcs = _vpc_labels(f) if vpcs is None else vpcs
                name = f"{vpcs.get(str(attrs['vpc_id']), attrs['vpc_id'])}/main"
            name = name or rid
            yield f.resource("aws_route_table", rid, name=name, arn=_ec2_arn(f, "route-table", rid),
                             attributes=attrs, tags=tags, aws_managed=main)  # fmt: skip


# Instances and volumes ---------------------------------------------------------------------------------


def user_data_digest(encoded: str | None) -> str | None:
    """What Terraform keeps for ``user_data``: SHA-1 hex of the script's bytes (the API gives base64)."""
    if not encoded:
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raw = encoded.encode()
    return hashlib.sha1(raw).hexdigest()  # Terraform's own state digest, not a security hash


def _instances(f: Fetch) -> Iterator[Resource]:
    ec2 = f.client("ec2")
    for page in f.pages(ec2, "describe_instances"):
        for res in page.get("Reservations", []):
            for i in res.get("Instances", []):
                if i.get("State", {}).get("Name") in ("terminated", "shutting-down"):
                    continue
                iid, tags = i["InstanceId"], _tags(i)
                ud = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData").get("UserData", {})
                profile = str((i.get("IamInstanceProfile") or {}).get("Arn", ""))
                attrs: dict[str, Json] = {
                    "ami": i.get("ImageId", ""),
                    "instance_type": i.get("InstanceType", ""),
                    "availability_zone": i.get("Placement", {}).get("AvailabilityZone", ""),
                    "tenancy": i.get("Placement", {}).get("Tenancy", "default"),
                    "subnet_id": i.get("SubnetId", ""),
                    "vpc_security_group_ids": sorted({str(g["GroupId"]) for g in i.get("SecurityGroups", [])}),
                    "iam_instance_profile": profile.rsplit("/", 1)[-1] if profile else "",
                    "monitoring": i.get("Monitoring", {}).get("State") in ("enabled", "pending"),
                    "key_name": i.get("KeyName", ""),
                    "ebs_optimized": bool(i.get("EbsOptimized")),
                    "private_ip": i.get("PrivateIpAddress", ""),
                    "instance_state": i.get("State", {}).get("Name", ""),
                    "user_data": user_data_digest(ud.get("Value")),
                }
                yield f.resource("aws_instance", iid, name=tags.get("Name") or iid, tags=tags,
                                 arn=_ec2_arn(f, "instance", iid), attributes=attrs)  # fmt: skip


def _volumes(f: Fetch) -> Iterator[Resource]:
    for page in f.pages(f.client("ec2"), "describe_volumes"):
        for v in page.get("Volumes", []):
            vid, tags = v["VolumeId"], _tags(v)
            attrs: dict[str, Json] = {
                "availability_zone": v.get("AvailabilityZone", ""),
                "size": v.get("Size"),
                "type": v.get("VolumeType", ""),
                "iops": v.get("Iops"),
                "throughput": v.get("Throughput"),
                "encrypted": bool(v.get("Encrypted")),
                "kms_key_id": v.get("KmsKeyId", ""),
                "snapshot_id": v.get("SnapshotId", ""),
                "multi_attach_enabled": bool(v.get("MultiAttachEnabled")),
            }
            # A volume that goes away with its instance was made by the instance's launch (root and
            # block-device-mapping volumes): a child of that instance, not a separately managed volume.
            launched = [a["InstanceId"] for a in v.get("Attachments", []) if a.get("DeleteOnTermination")]
            if launched:
                attrs["launched_with_instance"] = launched[0]
            yield f.resource("aws_ebs_volume", vid, name=tags.get("Name") or vid, tags=tags,
                             arn=_ec2_arn(f, "volume", vid), attributes=attrs)  # fmt: skip


_SG_CHILD = ("aws_security_group", "security_group_id")
_RULE_COMPARED = ("ip_protocol", "from_port", "to_port", "cidr_ipv4", "cidr_ipv6", "prefix_list_id",
                  "referenced_security_group_id", "description", "tags")  # fmt: skip

register(Lister(name="ec2.vpcs", service="ec2", calls=("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"),
                types=(AwsType("aws_vpc", "VPCs (CIDR, tenancy, DNS settings, tags); the default VPC is AWS's",
                               compared=("cidr_block", "instance_tenancy", "enable_dns_support",
                                         "enable_dns_hostnames", "tags")),),
                fetch=_vpcs))  # fmt: skip
register(Lister(name="ec2.subnets", service="ec2", calls=("ec2:DescribeSubnets",),
                types=(AwsType("aws_subnet", "VPC subnets; default subnets are AWS's",
                               compared=("cidr_block", "availability_zone", "map_public_ip_on_launch",
                                         "assign_ipv6_address_on_creation", "tags")),),
                fetch=_subnets))  # fmt: skip
register(Lister(name="ec2.security_groups", service="ec2",
                calls=("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcs"),
                types=(AwsType("aws_security_group", "Security groups with inline ingress/egress rules",
                               compared=("description", "ingress", "egress", "tags")),
                       AwsType("aws_security_group_rule", "Security group rules, one per Terraform rule (sgrule- id)",
                               compared=("type", "protocol", "from_port", "to_port", "cidr_blocks",
                                         "ipv6_cidr_blocks", "prefix_list_ids", "self", "source_security_group_id",
                                         "description"),
                               native_id=sgrule_id, parent=_SG_CHILD, alternative_of="aws_security_group"),
                       AwsType("aws_vpc_security_group_ingress_rule", "Security group ingress rules (sgr- id)",
                               compared=_RULE_COMPARED, parent=_SG_CHILD, alternative_of="aws_security_group"),
                       AwsType("aws_vpc_security_group_egress_rule", "Security group egress rules (sgr- id)",
                               compared=_RULE_COMPARED, parent=_SG_CHILD, alternative_of="aws_security_group")),
                fetch=_security_groups))  # fmt: skip
register(Lister(name="ec2.route_tables", service="ec2", calls=("ec2:DescribeRouteTables", "ec2:DescribeVpcs"),
                types=(AwsType("aws_route_table", "Route tables (routes, propagation); main route tables are AWS's",
                               compared=("route", "propagating_vgws", "tags")),),
                fetch=_route_tables))  # fmt: skip
register(Lister(name="ec2.instances", service="ec2", calls=("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute"),
                types=(AwsType("aws_instance", "EC2 instances (type, AMI, profile, groups; user data as a digest)",
                               compared=("instance_type", "ami", "iam_instance_profile", "vpc_security_group_ids",
                                         "monitoring", "user_data", "tags")),),
                fetch=_instances))  # fmt: skip
register(Lister(name="ec2.volumes", service="ec2", calls=("ec2:DescribeVolumes",),
                types=(AwsType("aws_ebs_volume", "EBS volumes; those launched with an instance are its children",
                               compared=("size", "type", "iops", "throughput", "encrypted", "kms_key_id", "tags"),
                               parent=("aws_instance", "launched_with_instance")),),
                fetch=_volumes))  # fmt: skip
