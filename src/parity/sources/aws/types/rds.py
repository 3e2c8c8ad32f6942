"""RDS DB instances and Aurora/Multi-AZ DB clusters.

``DescribeDBInstances`` and ``DescribeDBClusters`` return every object with its settings and tags in one
paginated call each. No password is ever read (the API does not return it).

Ids: Terraform AWS provider v5+ uses the instance's resource id (``DbiResourceId``, ``db-ABC...``) as
``aws_db_instance``'s id; earlier versions used the identifier. The live id is the resource id, and
``native_id`` takes ``resource_id`` from a state (present in states of every provider version), so old
and new states both match. Instances that belong to a cluster are ``aws_rds_cluster_instance`` in
Terraform (id = identifier), children of their cluster. DocumentDB and Neptune objects come back from
the same calls; they are other Terraform types (``aws_docdb_*``, ``aws_neptune_*``) and are skipped here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_OTHER_ENGINES = ("docdb", "neptune")


def _instance_attrs(db: dict[str, Any]) -> dict[str, Json]:
    endpoint = db.get("Endpoint") or {}
    attrs: dict[str, Json] = {
        "identifier": db["DBInstanceIdentifier"],
        "resource_id": db.get("DbiResourceId", ""),
        "instance_class": db.get("DBInstanceClass", ""),
        "engine": db.get("Engine", ""),
        "engine_version": db.get("EngineVersion", ""),
        "allocated_storage": int(db.get("AllocatedStorage", 0)),
        "storage_type": db.get("StorageType", ""),
        "multi_az": bool(db.get("MultiAZ", False)),
        "publicly_accessible": bool(db.get("PubliclyAccessible", False)),
        "storage_encrypted": bool(db.get("StorageEncrypted", False)),
        "kms_key_id": db.get("KmsKeyId", ""),
        "backup_retention_period": int(db.get("BackupRetentionPeriod", 0)),
        "deletion_protection": bool(db.get("DeletionProtection", False)),
        "username": db.get("MasterUsername", ""),
        "db_name": db.get("DBName", ""),
        "port": int(endpoint.get("Port") or db.get("DbInstancePort") or 0),
        "address": endpoint.get("Address", ""),
        "db_subnet_group_name": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName", ""),
        "vpc_security_group_ids": sorted(g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])),
        "parameter_group_name": next(iter(p["DBParameterGroupName"] for p in db.get("DBParameterGroups", [])), ""),
    }
    if db.get("DBClusterIdentifier"):
        attrs["cluster_identifier"] = db["DBClusterIdentifier"]
    return attrs


def _instances(f: Fetch) -> Iterator[Resource]:
    rds = f.client("rds")
    for page in f.pages(rds, "describe_db_instances"):
        for db in page.get("DBInstances", []):
            if db.get("Engine", "").startswith(_OTHER_ENGINES):
                continue
            attrs = _instance_attrs(db)
            tags = tags_from_list(db.get("TagList", []))
            ident = db["DBInstanceIdentifier"]
            if db.get("DBClusterIdentifier"):
                yield f.resource("aws_rds_cluster_instance", ident, arn=db.get("DBInstanceArn"), attributes=attrs,
                                 tags=tags)  # fmt: skip
            else:
                yield f.resource("aws_db_instance", db.get("DbiResourceId") or ident, name=ident,
                                 arn=db.get("DBInstanceArn"), attributes=attrs, tags=tags)  # fmt: skip


def _clusters(f: Fetch) -> Iterator[Resource]:
    rds = f.client("rds")
    for page in f.pages(rds, "describe_db_clusters"):
        for c in page.get("DBClusters", []):
            if c.get("Engine", "").startswith(_OTHER_ENGINES):
                continue
            ident = c["DBClusterIdentifier"]
            attrs: dict[str, Json] = {
                "cluster_identifier": ident,
                "cluster_resource_id": c.get("DbClusterResourceId", ""),
                "engine": c.get("Engine", ""),
                "engine_version": c.get("EngineVersion", ""),
                "engine_mode": c.get("EngineMode", "provisioned"),
                "storage_encrypted": bool(c.get("StorageEncrypted", False)),
                "kms_key_id": c.get("KmsKeyId", ""),
                "backup_retention_period": int(c.get("BackupRetentionPeriod", 0)),
                "deletion_protection": bool(c.get("DeletionProtection", False)),
                "master_username": c.get("MasterUsername", ""),
                "database_name": c.get("DatabaseName", ""),
                "port": int(c.get("Port") or 0),
                "db_cluster_parameter_group_name": c.get("DBClusterParameterGroup", ""),
                "cluster_members": sorted(m["DBInstanceIdentifier"] for m in c.get("DBClusterMembers", [])),
            }
            if c.get("DBClusterInstanceClass"):  # Multi-AZ DB clusters (not Aurora)
                attrs["db_cluster_instance_class"] = c["DBClusterInstanceClass"]
                attrs["allocated_storage"] = int(c.get("AllocatedStorage", 0))
            yield f.resource("aws_rds_cluster", ident, arn=c.get("DBClusterArn"), attributes=attrs,
                             tags=tags_from_list(c.get("TagList", [])))  # fmt: skip


def instance_native_id(attrs: Mapping[str, Any]) -> str | None:
    """A state's ``aws_db_instance`` as its live id: the resource id (``db-...``), whatever the provider
    version used as Terraform's own id."""
    rid = attrs.get("resource_id")
    return rid if isinstance(rid, str) and rid else None


_INSTANCE_COMPARED = ("instance_class", "engine", "engine_version", "allocated_storage", "multi_az",
                      "publicly_accessible", "storage_encrypted", "backup_retention_period", "deletion_protection",
                      "tags")  # fmt: skip

register(
    Lister(
        name="rds.instances",
        service="rds",
        calls=("rds:DescribeDBInstances",),
        types=(
            AwsType(
                "aws_db_instance",
                "RDS DB instances (class, engine, storage, backups, tags; never the password)",
                compared=_INSTANCE_COMPARED,
                native_id=instance_native_id,
            ),
            AwsType(
                "aws_rds_cluster_instance",
                "RDS instances that belong to a DB cluster",
                compared=("instance_class", "engine", "engine_version", "publicly_accessible", "tags"),
                parent=("aws_rds_cluster", "cluster_identifier"),
            ),
        ),
        fetch=_instances,
        notes="DocumentDB and Neptune instances are not listed as RDS types.",
    )
)

register(
    Lister(
        name="rds.clusters",
        service="rds",
        calls=("rds:DescribeDBClusters",),
        types=(
            AwsType(
                "aws_rds_cluster",
                "RDS Aurora and Multi-AZ DB clusters (engine, backups, encryption, tags)",
                compared=(
                    "engine",
                    "engine_version",
                    "storage_encrypted",
                    "backup_retention_period",
                    "deletion_protection",
                    "tags",
                ),
            ),
        ),
        fetch=_clusters,
    )
)
