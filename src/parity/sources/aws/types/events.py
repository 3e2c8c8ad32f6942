"""EventBridge (CloudWatch Events) rules on every event bus of the region.

``ListEventBuses`` gives the buses; ``ListRules`` per bus gives every rule with its pattern, schedule,
state, role and description (no per-rule describe needed); tags come from ``ListTagsForResource``.
Terraform's id is ``rule-name`` on the default bus and ``bus-name/rule-name`` on any other.
Rules an AWS service made and manages (``ManagedBy`` set, e.g. by CloudWatch alarms or Security Hub) are
AWS-managed; their tags are not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register


def _all(f: Fetch, client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a NextToken-paged listing, with or without a botocore paginator."""
    if client.can_paginate(operation):
        return [x for page in f.pages(client, operation, **kwargs) for x in page.get(key, [])]
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = getattr(client, operation)(**kwargs, **({"NextToken": token} if token else {}))
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items


def rule_id(bus: str, name: str) -> str:
    """Terraform's id for a rule: its name on the default bus, ``bus/name`` elsewhere."""
    return name if bus in ("", "default") else f"{bus}/{name}"


def _rules(f: Fetch) -> Iterator[Resource]:
    ev = f.client("events")
    buses = sorted({b["Name"] for b in _all(f, ev, "list_event_buses", "EventBuses")} | {"default"})
    for bus in buses:
        for r in _all(f, ev, "list_rules", "Rules", EventBusName=bus):
            name, arn = r["Name"], r["Arn"]
            state = r.get("State", "ENABLED")
            attrs: dict[str, Json] = {
                "name": name,
                "event_bus_name": r.get("EventBusName") or bus,
                "event_pattern": r.get("EventPattern", ""),
                "schedule_expression": r.get("ScheduleExpression", ""),
                "state": state,
                "is_enabled": state != "DISABLED",
                "description": r.get("Description", ""),
                "role_arn": r.get("RoleArn", ""),
            }
            managed = bool(r.get("ManagedBy"))
            if managed:
                attrs["managed_by"] = r["ManagedBy"]
                tags: dict[str, str] = {}
            else:
                tags = tags_from_list(ev.list_tags_for_resource(ResourceARN=arn).get("Tags", []))
            yield f.resource("aws_cloudwatch_event_rule", rule_id(bus, name), name=name, arn=arn, attributes=attrs,
                             tags=tags, aws_managed=managed)  # fmt: skip


register(
    Lister(
        name="events.rules",
        service="events",
        calls=("events:ListEventBuses", "events:ListRules", "events:ListTagsForResource"),
        types=(
            AwsType(
                "aws_cloudwatch_event_rule",
                "EventBridge rules on every bus (pattern, schedule, state, tags)",
                compared=(
                    "event_pattern",
                    "schedule_expression",
                    "state",
                    "is_enabled",
                    "description",
                    "role_arn",
                    "tags",
                ),
            ),
        ),
        fetch=_rules,
    )
)
