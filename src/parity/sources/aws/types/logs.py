"""CloudWatch log groups: retention, KMS key, class and tags.

``DescribeLogGroups`` gives every group's settings in one paginated call; tags need
``ListTagsForResource`` per group. Log events are never read. Groups that AWS services create on first
use (``/aws/lambda/...``, ``/aws/ecs/...``) are still the customer's: they hold the customer's data,
cost money and are often declared in Terraform to set their retention, so they are not AWS-managed.
"""

from __future__ import annotations

from collections.abc import Iterator

from parity.model import Json, Resource
from parity.sources.aws.spec import AwsType, Fetch, Lister, register


def _log_groups(f: Fetch) -> Iterator[Resource]:
    logs = f.client("logs")
    for page in f.pages(logs, "describe_log_groups"):
        for g in page.get("logGroups", []):
            name = g["logGroupName"]
            # Terraform's arn has no ":*" suffix (DescribeLogGroups' "arn" has one; "logGroupArn" does not).
            arn = g.get("logGroupArn") or str(g.get("arn", "")).removesuffix(":*") or f.arn("logs", f"log-group:{name}")
            attrs: dict[str, Json] = {
                "name": name,
                "retention_in_days": int(g.get("retentionInDays") or 0),  # 0: never expire, as in Terraform
                "kms_key_id": g.get("kmsKeyId", ""),
                "log_group_class": g.get("logGroupClass", "STANDARD"),
            }
            tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {}) or {}
            # Terraform's id for a log group is its name.
            yield f.resource("aws_cloudwatch_log_group", name, arn=arn, attributes=attrs, tags=tags)


register(
    Lister(
        name="logs.log_groups",
        service="logs",
        calls=("logs:DescribeLogGroups", "logs:ListTagsForResource"),
        types=(
            AwsType(
                "aws_cloudwatch_log_group",
                "CloudWatch log groups (retention, KMS key, tags; never events)",
                compared=("retention_in_days", "kms_key_id", "tags"),
            ),
        ),
        fetch=_log_groups,
    )
)
