"""ELBv2: application/network/gateway load balancers with their listeners, and target groups.

Terraform's id for all three is the ARN. Settings that live outside the describe answers (deletion
protection, idle timeout, deregistration delay, stickiness) come from the per-object attribute calls;
tags from ``DescribeTags``, which takes at most 20 ARNs a call. Listeners are children of their load
balancer (a declared load balancer makes its live listeners managed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_TAG_BATCH = 20


def _tags_by_arn(client: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for i in range(0, len(arns), _TAG_BATCH):
        for d in client.describe_tags(ResourceArns=arns[i : i + _TAG_BATCH]).get("TagDescriptions", []):
            out[d["ResourceArn"]] = tags_from_list(d.get("Tags", []))
    return out


def _attributes(raw: list[Mapping[str, str]]) -> dict[str, str]:
    return {a["Key"]: a.get("Value", "") for a in raw}


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _bool(value: str | None) -> bool:
    return value == "true"


def _action(a: Mapping[str, Any]) -> dict[str, Json]:
    """A listener action in Terraform's ``default_action`` shape (all blocks present, empty when unused)."""
    out: dict[str, Json] = {"type": a.get("Type", ""), "order": a.get("Order"), "target_group_arn": "",
                            "forward": [], "redirect": [], "fixed_response": [], "authenticate_cognito": [],
                            "authenticate_oidc": []}  # fmt: skip
    fwd = a.get("ForwardConfig") or {}
    tgs = fwd.get("TargetGroups", [])
    if a.get("TargetGroupArn") and len(tgs) <= 1 and not (fwd.get("TargetGroupStickinessConfig") or {}).get("Enabled"):
        out["target_group_arn"] = a["TargetGroupArn"]
    elif tgs:
        stick = fwd.get("TargetGroupStickinessConfig") or {}
        out["forward"] = [{
            "target_group": sorted(({"arn": t["TargetGroupArn"], "weight": t.get("Weight", 1)} for t in tgs),
                                   key=lambda t: str(t["arn"])),
            "stickiness": [{"enabled": bool(stick.get("Enabled")), "duration": stick.get("DurationSeconds", 0)}],
        }]  # fmt: skip
    if r := a.get("RedirectConfig"):
        out["redirect"] = [{"host": r.get("Host", "#{host}"), "path": r.get("Path", "/#{path}"),
                            "port": r.get("Port", "#{port}"), "protocol": r.get("Protocol", "#{protocol}"),
                            "query": r.get("Query", "#{query}"), "status_code": r.get("StatusCode", "")}]  # fmt: skip
    if fr := a.get("FixedResponseConfig"):
        out["fixed_response"] = [{"content_type": fr.get("ContentType", ""), "message_body": fr.get("MessageBody", ""),
                                  "status_code": fr.get("StatusCode", "")}]  # fmt: skip
    return out


def _order(action: Mapping[str, Json]) -> int:
    order = action.get("order")
    return order if isinstance(order, int) else 0


def _load_balancers(f: Fetch) -> Iterator[Resource]:
    elb = f.client("elbv2")
    lbs = [lb for page in f.pages(elb, "describe_load_balancers") for lb in page.get("LoadBalancers", [])]
    listeners: dict[str, list[dict[str, Any]]] = {}
    for lb in lbs:
        arn = lb["LoadBalancerArn"]
        listeners[arn] = [x for p in f.pages(elb, "describe_listeners", LoadBalancerArn=arn) for x in p["Listeners"]]
    all_arns = [lb["LoadBalancerArn"] for lb in lbs] + [x["ListenerArn"] for xs in listeners.values() for x in xs]
    tags = _tags_by_arn(elb, all_arns)
    for lb in lbs:
        arn, name = lb["LoadBalancerArn"], lb["LoadBalancerName"]
        at = _attributes(elb.describe_load_balancer_attributes(LoadBalancerArn=arn).get("Attributes", []))
        attrs: dict[str, Json] = {
            "name": name,
            "arn_suffix": arn.split(":loadbalancer/", 1)[-1],
            "dns_name": lb.get("DNSName", ""),
            "zone_id": lb.get("CanonicalHostedZoneId", ""),
            "internal": lb.get("Scheme") == "internal",
            "load_balancer_type": lb.get("Type", ""),
            "ip_address_type": lb.get("IpAddressType", ""),
            "vpc_id": lb.get("VpcId", ""),
            "security_groups": sorted(lb.get("SecurityGroups", [])),
            "subnets": sorted(z["SubnetId"] for z in lb.get("AvailabilityZones", []) if z.get("SubnetId")),
            "enable_deletion_protection": _bool(at.get("deletion_protection.enabled")),
            "access_logs": [{"bucket": at.get("access_logs.s3.bucket", ""),
                             "prefix": at.get("access_logs.s3.prefix", ""),
                             "enabled": _bool(at.get("access_logs.s3.enabled"))}],
        }  # fmt: skip
        for key, tf in (("idle_timeout.timeout_seconds", "idle_timeout"),):
            if key in at:
                attrs[tf] = _int(at[key])
        for key, tf in (("routing.http2.enabled", "enable_http2"),
                        ("routing.http.drop_invalid_header_fields.enabled", "drop_invalid_header_fields"),
                        ("load_balancing.cross_zone.enabled", "enable_cross_zone_load_balancing")):  # fmt: skip
            if key in at:
                attrs[tf] = _bool(at[key])
        yield f.resource("aws_lb", arn, name=name, arn=arn, attributes=attrs, tags=tags.get(arn, {}))
        for x in listeners[arn]:
            xarn = x["ListenerArn"]
            actions = sorted((_action(a) for a in x.get("DefaultActions", [])), key=lambda a: a["order"] or 0)
            xattrs: dict[str, Json] = {
                "load_balancer_arn": arn,
                "port": x.get("Port"),
                "protocol": x.get("Protocol", ""),
                "ssl_policy": x.get("SslPolicy", "") if x.get("Protocol") in ("HTTPS", "TLS") else "",
                "certificate_arn": next((c["CertificateArn"] for c in x.get("Certificates", [])), None),
                "alpn_policy": next(iter(x.get("AlpnPolicy") or []), None),
                "default_action": actions,
            }
            yield f.resource("aws_lb_listener", xarn, name=f"{name}/{x.get('Protocol', '')}:{x.get('Port')}", arn=xarn,
                             attributes=xattrs, tags=tags.get(xarn, {}))  # fmt: skip


def _target_groups(f: Fetch) -> Iterator[Resource]:
    elb = f.client("elbv2")
    tgs = [t for page in f.pages(elb, "describe_target_groups") for t in page.get("TargetGroups", [])]
    tags = _tags_by_arn(elb, [t["TargetGroupArn"] for t in tgs])
    for t in tgs:
        arn, name = t["TargetGroupArn"], t["TargetGroupName"]
        at = _attributes(elb.describe_target_group_attributes(TargetGroupArn=arn).get("Attributes", []))
        matcher = t.get("Matcher") or {}
        health: dict[str, Json] = {
            "enabled": bool(t.get("HealthCheckEnabled", True)),
            "protocol": t.get("HealthCheckProtocol", ""),
            "port": t.get("HealthCheckPort", ""),
            "path": t.get("HealthCheckPath", ""),
            "interval": t.get("HealthCheckIntervalSeconds"),
            "timeout": t.get("HealthCheckTimeoutSeconds"),
            "healthy_threshold": t.get("HealthyThresholdCount"),
            "unhealthy_threshold": t.get("UnhealthyThresholdCount"),
            "matcher": matcher.get("HttpCode") or matcher.get("GrpcCode") or "",
        }
        attrs: dict[str, Json] = {
            "name": name,
            "arn_suffix": arn.split(":", 5)[-1],
            "port": t.get("Port"),
            "protocol": t.get("Protocol", ""),
            "protocol_version": t.get("ProtocolVersion", ""),
            "target_type": t.get("TargetType", ""),
            "vpc_id": t.get("VpcId", ""),
            "health_check": [health],
            "deregistration_delay": at.get("deregistration_delay.timeout_seconds", ""),
            "slow_start": _int(at.get("slow_start.duration_seconds")) or 0,
            "stickiness": [{"enabled": _bool(at.get("stickiness.enabled")), "type": at.get("stickiness.type", "")}],
            "load_balancer_arns": sorted(t.get("LoadBalancerArns", [])),
        }
        yield f.resource("aws_lb_target_group", arn, name=name, arn=arn, attributes=attrs, tags=tags.get(arn, {}))


register(
    Lister(
        name="elbv2.load_balancers",
        service="elbv2",
        calls=("elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
               "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTags"),
        types=(
            AwsType("aws_lb", "ELBv2 load balancers (scheme, subnets, groups, deletion protection, idle timeout)",
                    compared=("internal", "load_balancer_type", "ip_address_type", "security_groups", "subnets",
                              "enable_deletion_protection", "idle_timeout", "tags")),
            AwsType("aws_lb_listener", "ELBv2 listeners (port, protocol, TLS policy, certificate, default action)",
                    compared=("port", "protocol", "ssl_policy", "certificate_arn", "default_action", "tags"),
                    parent=("aws_lb", "load_balancer_arn")),
        ),
        fetch=_load_balancers,
    )
)  # fmt: skip
register(
    Lister(
        name="elbv2.target_groups",
        service="elbv2",
        calls=("elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
               "elasticloadbalancing:DescribeTags"),
        types=(
            AwsType("aws_lb_target_group", "ELBv2 target groups (port, protocol, health check, deregistration delay)",
                    compared=("port", "protocol", "target_type", "health_check", "deregistration_delay",
                              "stickiness", "tags")),
        ),
        fetch=_target_groups,
    )
)  # fmt: skip
