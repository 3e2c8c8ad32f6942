"""DynamoDB tables: keys, attributes, indexes, billing, streams, encryption, PITR, TTL and tags.

``ListTables`` gives names only; each table needs ``DescribeTable`` (schema, billing, indexes,
streams, encryption), ``DescribeContinuousBackups`` (point-in-time recovery), ``DescribeTimeToLive``
and ``ListTagsOfResource``. Items are never read (no Scan, no Query). Shapes follow Terraform's state:
nested blocks are lists of dicts, ``attribute`` and the indexes sorted by name (sets in Terraform).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register


def _keys(schema: list[dict[str, Any]]) -> tuple[str, str]:
    hash_key = next((k["AttributeName"] for k in schema if k.get("KeyType") == "HASH"), "")
    range_key = next((k["AttributeName"] for k in schema if k.get("KeyType") == "RANGE"), "")
    return hash_key, range_key


def _index(ix: dict[str, Any], with_capacity: bool) -> dict[str, Json]:
    hash_key, range_key = _keys(ix.get("KeySchema", []))
    proj = ix.get("Projection") or {}
    out: dict[str, Json] = {
        "name": ix["IndexName"],
        "hash_key": hash_key,
        "range_key": range_key,
        "projection_type": proj.get("ProjectionType", ""),
        "non_key_attributes": sorted(proj.get("NonKeyAttributes", [])),
    }
    if with_capacity:
        tput = ix.get("ProvisionedThroughput") or {}
        out["read_capacity"] = int(tput.get("ReadCapacityUnits", 0))
        out["write_capacity"] = int(tput.get("WriteCapacityUnits", 0))
    return out


def _table_attrs(t: dict[str, Any]) -> dict[str, Json]:
    hash_key, range_key = _keys(t.get("KeySchema", []))
    billing = (t.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"
    stream = t.get("StreamSpecification") or {}
    sse = t.get("SSEDescription") or {}
    attrs: dict[str, Json] = {
        "name": t["TableName"],
        "billing_mode": billing,
        "hash_key": hash_key,
        "attribute": sorted(({"name": a["AttributeName"], "type": a["AttributeType"]}
                             for a in t.get("AttributeDefinitions", [])), key=lambda a: a["name"]),
        "global_secondary_index": sorted((_index(ix, provisioned) for ix in t.get("GlobalSecondaryIndexes", [])),
                                         key=lambda i: str(i["name"])),
        "local_secondary_index": sorted((_index(ix, False) for ix in t.get("LocalSecondaryIndexes", [])),
                                        key=lambda i: str(i["name"])),
        "stream_enabled": bool(stream.get("StreamEnabled", False)),
        "stream_view_type": stream.get("StreamViewType", "") if stream.get("StreamEnabled") else "",
        "stream_arn": t.get("LatestStreamArn", ""),
        # Terraform leaves the block empty for the default (AWS-owned key) encryption.
        "server_side_encryption": [{"enabled": True, "kms_key_arn": sse.get("KMSMasterKeyArn", "")}]
        if sse.get("Status") in ("ENABLED", "ENABLING") else [],
        "table_class": (t.get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
        "deletion_protection_enabled": bool(t.get("DeletionProtectionEnabled", False)),
    }  # fmt: skip
    if range_key:
        attrs["range_key"] = range_key
    if provisioned:
        tput = t.get("ProvisionedThroughput") or {}
        attrs["read_capacity"] = int(tput.get("ReadCapacityUnits", 0))
        attrs["write_capacity"] = int(tput.get("WriteCapacityUnits", 0))
    return attrs


def _tables(f: Fetch) -> Iterator[Resource]:
    ddb = f.client("dynamodb")
    for page in f.pages(ddb, "list_tables"):
        for name in page.get("TableNames", []):
            t = ddb.describe_table(TableName=name)["Table"]
            attrs = _table_attrs(t)
            pitr = (ddb.describe_continuous_backups(TableName=name).get("ContinuousBackupsDescription") or {}).get(
                "PointInTimeRecoveryDescription"
            ) or {}
            attrs["point_in_time_recovery"] = [{"enabled": pitr.get("PointInTimeRecoveryStatus") == "ENABLED"}]
            ttl = ddb.describe_time_to_live(TableName=name).get("TimeToLiveDescription") or {}
            attrs["ttl"] = [{"attribute_name": ttl.get("AttributeName", ""),
                             "enabled": ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")}]  # fmt: skip
            arn = t["TableArn"]
            tags: dict[str, str] = {}
            for tpage in f.pages(ddb, "list_tags_of_resource", ResourceArn=arn):
                tags.update(tags_from_list(tpage.get("Tags", [])))
            # Terraform's id for a table is its name.
            yield f.resource("aws_dynamodb_table", name, arn=arn, attributes=attrs, tags=tags)


register(
    Lister(
        name="dynamodb.tables",
        service="dynamodb",
        calls=(
            "dynamodb:ListTables",
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:ListTagsOfResource",
        ),
        types=(
            AwsType(
                "aws_dynamodb_table",
                "DynamoDB tables (keys, indexes, billing, streams, encryption, PITR, TTL, tags; never items)",
                compared=(
                    "billing_mode",
                    "hash_key",
                    "range_key",
                    "attribute",
                    "global_secondary_index",
                    "point_in_time_recovery",
                    "server_side_encryption",
                    "stream_enabled",
                    "ttl",
                    "tags",
                ),
            ),
        ),
        fetch=_tables,
    )
)
