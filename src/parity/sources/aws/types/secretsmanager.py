"""Secrets Manager secrets: metadata only, from ``ListSecrets``; the value is never read.

``ListSecrets`` gives name, description, KMS key, rotation settings and tags of every secret in one
paginated call. ``GetSecretValue`` is never called (the guard refuses it). Secrets another AWS service
made and manages for the customer (``OwningService`` set, such as the ``rds!db-...`` master password
RDS keeps) are marked AWS-managed: no Terraform state declares them as secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register


def _rotation_rules(s: dict[str, Any]) -> list[Json]:
    rules = s.get("RotationRules") or {}
    if not rules:
        return []
    out: dict[str, Json] = {}
    if rules.get("AutomaticallyAfterDays") is not None:
        out["automatically_after_days"] = int(rules["AutomaticallyAfterDays"])
    if rules.get("Duration"):
        out["duration"] = rules["Duration"]
    if rules.get("ScheduleExpression"):
        out["schedule_expression"] = rules["ScheduleExpression"]
    return [out]


def _secrets(f: Fetch) -> Iterator[Resource]:
    sm = f.client("secretsmanager")
    for page in f.pages(sm, "list_secrets"):
        for s in page.get("SecretList", []):
            arn = s["ARN"]
            attrs: dict[str, Json] = {
                "name": s.get("Name", ""),
                "description": s.get("Description", ""),
                "kms_key_id": s.get("KmsKeyId", ""),
                "rotation_enabled": bool(s.get("RotationEnabled", False)),
                "rotation_lambda_arn": s.get("RotationLambdaARN", ""),
                "rotation_rules": _rotation_rules(s),
            }
            if s.get("OwningService"):
                attrs["owning_service"] = s["OwningService"]
            # Terraform's id for a secret is its ARN (with AWS's random suffix).
            tags = tags_from_list(s.get("Tags", []))
            yield f.resource("aws_secretsmanager_secret", arn, name=s.get("Name"), arn=arn, attributes=attrs,
                             tags=tags, aws_managed=bool(s.get("OwningService")))  # fmt: skip


register(
    Lister(
        name="secretsmanager.secrets",
        service="secretsmanager",
        calls=("secretsmanager:ListSecrets",),
        types=(
            AwsType(
                "aws_secretsmanager_secret",
                "Secrets Manager secrets (metadata only; values never read)",
                compared=("description", "kms_key_id", "rotation_enabled", "tags"),
            ),
        ),
        fetch=_secrets,
        notes="GetSecretValue is never called.",
    )
)
