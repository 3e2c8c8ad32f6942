"""Route 53 hosted zones and their record sets (global: listed once per account).

Terraform's id for a zone is the zone id without ``/hostedzone/``; for a record it is
``ZONEID_name_TYPE`` (``_SETIDENTIFIER`` appended for routing policies), where ``name`` is whatever the
configuration said: a full name or one relative to the zone (``test`` for ``test.example.com``). The live
id always uses the full name (lower case, no trailing dot, ``*`` for the ``\\052`` AWS returns), which is
the form ``terraform import`` takes; :func:`record_native_id` computes it from a state's ``fqdn`` so
both forms match. The NS and SOA records AWS creates at a zone's apex are ``aws_managed``. Records
are deliberately not children of their zone: a zone declares no records inline, so a record added by
hand to a Terraform zone must still show as ``unmanaged``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_TAG_BATCH = 10  # ListTagsForResources takes at most 10 ids
# An octal escape as Route 53 writes one byte of a name (`\052` is `*`): three octal digits, at most `\377`.
# Anything else (`\999`, `\08`, a lone backslash) is not an escape and stays as written.
_OCTAL = re.compile(r"\\([0-3][0-7]{2})")


def dns_name(name: str) -> str:
    """A DNS name as Terraform writes it: lower case, no trailing dot, octal escapes (``\\052``) decoded.

    Used for live names and, through :func:`record_native_id`, for the names a Terraform state holds, so
    both sides decode alike; it never raises, whatever the name holds."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), name).rstrip(".").lower()


def record_id(zone_id: str, name: str, type_: str, set_identifier: str | None = None) -> str:
    base = f"{zone_id}_{dns_name(name)}_{type_}"
    return f"{base}_{set_identifier}" if set_identifier else base


def record_native_id(attrs: Mapping[str, Any]) -> str | None:
    """The live id of a record declared in a state (its ``name`` may be relative: ``fqdn`` is not)."""
    zone, type_ = attrs.get("zone_id"), attrs.get("type")
    name = attrs.get("fqdn") or attrs.get("name")
    if not (zone and type_ and name):
        return None
    return record_id(str(zone), str(name), str(type_), attrs.get("set_identifier") or None)


def _value(type_: str, value: str) -> str:
    """A record value in Terraform's form: TXT/SPF strings lose the quotes AWS adds around them."""
    if type_ in ("TXT", "SPF") and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _record(f: Fetch, zone_id: str, zone_name: str, rr: Mapping[str, Any]) -> Resource:
    name, type_ = dns_name(rr["Name"]), rr["Type"]
    set_id = rr.get("SetIdentifier")
    alias = rr.get("AliasTarget")
    attrs: dict[str, Json] = {
        "zone_id": zone_id,
        "name": name,
        "fqdn": name,
        "type": type_,
        "ttl": rr.get("TTL"),
        "records": sorted(_value(type_, r["Value"]) for r in rr.get("ResourceRecords", [])),
        "alias": [{"name": dns_name(alias["DNSName"]), "zone_id": alias.get("HostedZoneId", ""),
                   "evaluate_target_health": bool(alias.get("EvaluateTargetHealth"))}] if alias else [],
        "set_identifier": set_id or "",
        "health_check_id": rr.get("HealthCheckId", ""),
        "weighted_routing_policy": [{"weight": rr["Weight"]}] if "Weight" in rr else [],
        "failover_routing_policy": [{"type": rr["Failover"]}] if rr.get("Failover") else [],
        "latency_routing_policy": [{"region": rr["Region"]}] if rr.get("Region") else [],
        "multivalue_answer_routing_policy": rr.get("MultiValueAnswer"),
    }  # fmt: skip
    if geo := rr.get("GeoLocation"):
        attrs["geolocation_routing_policy"] = [{"continent": geo.get("ContinentCode", ""),
                                                "country": geo.get("CountryCode", ""),
                                                "subdivision": geo.get("SubdivisionCode", "")}]  # fmt: skip
    rid = record_id(zone_id, name, type_, set_id)
    apex_default = name == zone_name and type_ in ("NS", "SOA")
    label = f"{name}_{type_}" + (f"_{set_id}" if set_id else "")
    return f.resource("aws_route53_record", rid, name=label, attributes=attrs, aws_managed=apex_default)


def _zones(f: Fetch) -> Iterator[Resource]:
    r53 = f.client("route53")
    zones = [z for page in f.pages(r53, "list_hosted_zones") for z in page.get("HostedZones", [])]
    ids = [z["Id"].rsplit("/", 1)[-1] for z in zones]
    tags: dict[str, dict[str, str]] = {}
    for i in range(0, len(ids), _TAG_BATCH):
        answer = r53.list_tags_for_resources(ResourceType="hostedzone", ResourceIds=ids[i : i + _TAG_BATCH])
        for s in answer.get("ResourceTagSets", []):
            tags[s["ResourceId"]] = tags_from_list(s.get("Tags", []))
    for z, zid in zip(zones, ids, strict=True):
        name = dns_name(z["Name"])
        private = bool(z.get("Config", {}).get("PrivateZone"))
        vpcs: list[Json] = []
        if private:  # the associated VPCs are only in GetHostedZone
            found = r53.get_hosted_zone(Id=zid).get("VPCs", [])
            vpcs = sorted(({"vpc_id": v["VPCId"], "vpc_region": v.get("VPCRegion", "")} for v in found), key=str)
        attrs: dict[str, Json] = {
            "name": name,
            "zone_id": zid,
            "comment": z.get("Config", {}).get("Comment", ""),
            "private_zone": private,
            "vpc": vpcs,
        }
        if z.get("LinkedService"):  # a zone a service made for itself (Cloud Map namespaces, ...)
            attrs["linked_service"] = z["LinkedService"].get("ServicePrincipal", "")
        arn = f"arn:{f.partition}:route53:::hostedzone/{zid}"
        yield f.resource("aws_route53_zone", zid, name=name, arn=arn, attributes=attrs, tags=tags.get(zid, {}),
                         aws_managed=bool(z.get("LinkedService")))  # fmt: skip
        for page in f.pages(r53, "list_resource_record_sets", HostedZoneId=zid):
            for rr in page.get("ResourceRecordSets", []):
                yield _record(f, zid, name, rr)


register(
    Lister(
        name="route53.zones",
        service="route53",
        global_=True,
        calls=("route53:ListHostedZones", "route53:ListTagsForResources", "route53:GetHostedZone",
               "route53:ListResourceRecordSets"),
        types=(
            AwsType("aws_route53_zone", "Route 53 hosted zones (comment, private zone VPCs, tags)",
                    compared=("comment", "vpc", "tags")),
            AwsType("aws_route53_record", "Route 53 record sets (values, TTL, alias); apex NS/SOA are AWS's",
                    compared=("records", "ttl", "alias"), native_id=record_native_id),
        ),
        fetch=_zones,
    )
)  # fmt: skip
