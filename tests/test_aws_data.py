"""RDS, DynamoDB, SSM and Secrets Manager types against moto's server; secrets never reach a snapshot."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import CORPUS, account_session, new_account
from parity.model import Snapshot
from parity.redact import Redactor
from parity.registry import type_info
from test_aws_compute import _zip
from test_aws_source import aws_spec, by_type, run

REGIONS = ("eu-west-1", "us-east-1")


def _clients(moto_url: str, acct: str, service: str) -> dict[str, Any]:
    sess = account_session(moto_url, acct)
    return {r: sess.client(service, endpoint_url=moto_url, region_name=r) for r in REGIONS}  # type: ignore[attr-defined]


def _collect(moto_url: str, acct: str, redactor: Redactor, *globs: str) -> Snapshot:
    return run(aws_spec(moto_url, acct, resource_types={"include": list(globs)}), redactor)


def test_rds_instances_and_clusters(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    rds = _clients(moto_url, acct, "rds")
    db = rds["eu-west-1"].create_db_instance(
        DBInstanceIdentifier="shop-prod-db", DBInstanceClass="db.t3.micro", Engine="postgres", EngineVersion="15.4",
        AllocatedStorage=50, MasterUsername="admin", MasterUserPassword="pw-never-read-1", MultiAZ=True,
        StorageEncrypted=True, BackupRetentionPeriod=7, DeletionProtection=True, PubliclyAccessible=False,
        Tags=[{"Key": "app", "Value": "shop"}],
    )["DBInstance"]  # fmt: skip
    rds["us-east-1"].create_db_cluster(
        DBClusterIdentifier="analytics", Engine="aurora-postgresql", EngineVersion="15.4", MasterUsername="admin",
        MasterUserPassword="pw-never-read-2", BackupRetentionPeriod=5, StorageEncrypted=True,
        Tags=[{"Key": "team", "Value": "data"}],
    )  # fmt: skip
    rds["us-east-1"].create_db_instance(DBInstanceIdentifier="analytics-1", DBInstanceClass="db.r6g.large",
                                        Engine="aurora-postgresql", DBClusterIdentifier="analytics")  # fmt: skip

    snap = _collect(moto_url, acct, redactor, "aws_db_instance", "aws_rds_*")
    insts = by_type(snap, "aws_db_instance")
    assert set(insts) == {db["DbiResourceId"]}  # provider v5+ id: the resource id
    inst = insts[db["DbiResourceId"]]
    a = inst.attributes
    assert inst.name == "shop-prod-db" and a["identifier"] == "shop-prod-db"
    assert inst.key == f"arn:aws:rds:eu-west-1:{acct}:db:shop-prod-db"
    expected = {"instance_class": "db.t3.micro", "engine": "postgres", "engine_version": "15.4",
                "allocated_storage": 50, "multi_az": True, "publicly_accessible": False, "storage_encrypted": True,
                "backup_retention_period": 7, "deletion_protection": True}  # fmt: skip
    assert {k: a[k] for k in expected} == expected
    assert inst.tags == {"app": "shop"}
    clusters = by_type(snap, "aws_rds_cluster")
    assert set(clusters) == {"analytics"}
    c = clusters["analytics"].attributes
    assert (c["engine"], c["backup_retention_period"], c["storage_encrypted"]) == ("aurora-postgresql", 5, True)
    assert clusters["analytics"].tags == {"team": "data"}
    members = by_type(snap, "aws_rds_cluster_instance")
    assert set(members) == {"analytics-1"} and members["analytics-1"].attributes["cluster_identifier"] == "analytics"
    assert "pw-never-read" not in repr(snap.resources)


def _corpus_state(tf_type: str) -> list[dict[str, Any]]:
    path = CORPUS / "terraform-states" / tf_type / "terraform.tfstate"
    if not path.exists():
        pytest.skip(f"corpus state not found at {path}")
    state = json.loads(path.read_text())
    return [i["attributes"] for r in state["resources"] if r["type"] == tf_type for i in r["instances"]]


def test_db_instance_native_id_from_a_corpus_state_matches_the_live_id(moto_url: str, redactor: Redactor) -> None:
    """The corpus state (provider v3 era: id = identifier) maps to the resource id, the live id; a v5-style
    state (id = resource id) maps to the same."""
    (old,) = _corpus_state("aws_db_instance")
    native = type_info("aws_db_instance").native_id  # type: ignore[union-attr]
    assert native is not None
    assert old["id"] == old["identifier"] and native(old) == old["resource_id"]
    acct = new_account()
    rds = _clients(moto_url, acct, "rds")["eu-west-1"]
    db = rds.create_db_instance(DBInstanceIdentifier=old["identifier"], DBInstanceClass=old["instance_class"],
                                Engine=old["engine"], AllocatedStorage=old["allocated_storage"])  # fmt: skip
    db = db["DBInstance"]
    (live,) = by_type(_collect(moto_url, acct, redactor, "aws_db_instance"), "aws_db_instance").values()
    state_now = {**old, "resource_id": db["DbiResourceId"]}  # the same object, as a state would record it
    assert native(state_now) == live.id
    v5 = {**state_now, "id": db["DbiResourceId"]}
    assert native(v5) == live.id
    assert native({"id": "x"}) is None  # no resource id: codelive falls back to the state's own id


def test_dynamodb_tables(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    ddb = _clients(moto_url, acct, "dynamodb")
    d = ddb["eu-west-1"]
    d.create_table(
        TableName="GameScores", BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 20, "WriteCapacityUnits": 20},
        AttributeDefinitions=[{"AttributeName": "UserId", "AttributeType": "S"},
                              {"AttributeName": "GameTitle", "AttributeType": "S"},
                              {"AttributeName": "TopScore", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "UserId", "KeyType": "HASH"}, {"AttributeName": "GameTitle", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "GameTitleIndex",
                                 "KeySchema": [{"AttributeName": "GameTitle", "KeyType": "HASH"},
                                               {"AttributeName": "TopScore", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["UserId"]},
                                 "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        Tags=[{"Key": "Environment", "Value": "production"}],
    )  # fmt: skip
    d.update_continuous_backups(TableName="GameScores",
                                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})  # fmt: skip
    d.update_time_to_live(TableName="GameScores", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    d.put_item(TableName="GameScores", Item={"UserId": {"S": "u"}, "GameTitle": {"S": "item-never-read"}})
    ddb["us-east-1"].create_table(TableName="sessions", BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])  # fmt: skip

    snap = _collect(moto_url, acct, redactor, "aws_dynamodb_*")
    tables = by_type(snap, "aws_dynamodb_table")
    assert set(tables) == {"GameScores", "sessions"}
    # The same shapes as the corpus state of this very table (driftctl's test account).
    want = {"billing_mode": "PROVISIONED", "hash_key": "UserId", "range_key": "GameTitle",
            "attribute": [{"name": "GameTitle", "type": "S"}, {"name": "TopScore", "type": "N"},
                          {"name": "UserId", "type": "S"}],
            "global_secondary_index": [{"hash_key": "GameTitle", "name": "GameTitleIndex",
                                        "non_key_attributes": ["UserId"], "projection_type": "INCLUDE",
                                        "range_key": "TopScore", "read_capacity": 10, "write_capacity": 10}],
            "point_in_time_recovery": [{"enabled": True}], "server_side_encryption": [], "stream_enabled": True,
            "ttl": [{"attribute_name": "exp", "enabled": True}], "read_capacity": 20, "write_capacity": 20}  # fmt: skip
    got = tables["GameScores"].attributes
    assert {k: got[k] for k in want} == want
    assert tables["GameScores"].tags == {"Environment": "production"}
    s = tables["sessions"].attributes
    assert s["billing_mode"] == "PAY_PER_REQUEST" and "range_key" not in s and s["stream_enabled"] is False
    assert s["point_in_time_recovery"] == [{"enabled": False}] and s["ttl"][0]["enabled"] is False
    assert tables["sessions"].key == f"arn:aws:dynamodb:us-east-1:{acct}:table/sessions"
    assert "item-never-read" not in repr(snap.resources)


def test_dynamodb_shapes_match_the_corpus_state() -> None:
    """Every attribute parity compares for a table exists in a real state with the same shape kind."""
    states = _corpus_state("aws_dynamodb_table")
    assert states
    for state in states:
        for attr in type_info("aws_dynamodb_table").compared:  # type: ignore[union-attr]
            if attr != "range_key":  # absent from a state when the table has none, as parity omits it
                assert attr in state, attr
        assert isinstance(state["point_in_time_recovery"], list) and isinstance(state["ttl"][0], dict)


def test_ssm_parameters_values_and_pagination(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    ssm = _clients(moto_url, acct, "ssm")
    s = ssm["eu-west-1"]
    for i in range(13):  # more than moto's page of 10, and more than one GetParameters batch of 10
        s.put_parameter(Name=f"/shop/flag{i:02d}", Value=f"v{i}", Type="String")
    s.put_parameter(Name="/shop/hosts", Value="a,b", Type="StringList", Description="hosts", Tier="Standard",
                    Tags=[{"Key": "app", "Value": "shop"}])  # fmt: skip
    s.put_parameter(Name="/shop/db_password", Value="SECURE-never-read", Type="SecureString")
    ssm["us-east-1"].put_parameter(Name="region-flag", Value="on", Type="String")

    snap = _collect(moto_url, acct, redactor, "aws_ssm_*")
    params = by_type(snap, "aws_ssm_parameter")
    assert set(params) == {f"/shop/flag{i:02d}" for i in range(13)} | {"/shop/hosts", "/shop/db_password",
                                                                      "region-flag"}  # fmt: skip
    # Terraform keeps every parameter value sensitive (hashed in states): live values are hashed the same way
    assert params["/shop/flag12"].attributes["value"] == redactor.redact("v12")
    hosts = params["/shop/hosts"]
    assert hosts.attributes["value"] == redactor.redact("a,b") and hosts.attributes["type"] == "StringList"
    assert hosts.attributes["description"] == "hosts" and hosts.tags == {"app": "shop"}
    sec = params["/shop/db_password"].attributes
    assert sec["type"] == "SecureString" and "value" not in sec
    assert params["region-flag"].key == f"arn:aws:ssm:us-east-1:{acct}:parameter/region-flag"


def test_secretsmanager_secrets_metadata_only(moto_url: str, redactor: Redactor) -> None:
    acct = new_account()
    sm = _clients(moto_url, acct, "secretsmanager")
    created = sm["eu-west-1"].create_secret(Name="shop/prod/db", Description="db creds",
                                            SecretString="SECRET-never-read-sm",
                                            Tags=[{"Key": "app", "Value": "shop"}])  # fmt: skip
    sm["us-east-1"].create_secret(Name="other", SecretBinary=b"BINARY-never-read")

    snap = _collect(moto_url, acct, redactor, "aws_secretsmanager_*")
    secrets = by_type(snap, "aws_secretsmanager_secret")
    assert created["ARN"] in secrets and len(secrets) == 2
    s = secrets[created["ARN"]]
    assert s.name == "shop/prod/db" and s.key == created["ARN"]
    assert s.attributes["description"] == "db creds" and s.attributes["rotation_enabled"] is False
    assert s.tags == {"app": "shop"} and s.owner == "none"


def test_no_secret_value_appears_anywhere_in_the_snapshot(moto_url: str, redactor: Redactor) -> None:
    """SecureString and Secrets Manager values (and environment values) never reach any resource."""
    acct = new_account()
    planted = ["SecureString-value-7f3a", "secretsmanager-value-9c1d", "lambda-env-value-2b8e", "ecs-env-value-5e0f"]
    for region in REGIONS:
        sess = account_session(moto_url, acct, region)
        sess.client("ssm", endpoint_url=moto_url).put_parameter(  # type: ignore[attr-defined]
            Name="/app/api_key", Value=planted[0], Type="SecureString"
        )
        sess.client("secretsmanager", endpoint_url=moto_url).create_secret(  # type: ignore[attr-defined]
            Name="app/token", SecretString=json.dumps({"password": planted[1]})
        )
        ecs = sess.client("ecs", endpoint_url=moto_url)  # type: ignore[attr-defined]
        ecs.register_task_definition(
            family="app",
            containerDefinitions=[
                {"name": "c", "image": "app:1", "memory": 64, "environment": [{"name": "X", "value": planted[3]}]}
            ],
        )
    iam = account_session(moto_url, acct).client("iam", endpoint_url=moto_url)  # type: ignore[attr-defined]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam = account_session(moto_url, acct).client("lambda", endpoint_url=moto_url)  # type: ignore[attr-defined]
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": _zip()},
                        Environment={"Variables": {"PLAIN": planted[2]}})  # fmt: skip

    snap = _collect(moto_url, acct, redactor, "aws_ssm_*", "aws_secretsmanager_*", "aws_lambda_*", "aws_ecs_*")
    types = {"aws_ssm_parameter", "aws_secretsmanager_secret", "aws_lambda_function", "aws_ecs_task_definition"}
    assert types <= {r.type for r in snap.resources}
    text = repr(snap)
    for value in planted:
        assert value not in text, value


@pytest.mark.parametrize(
    ("constraint", "region"),
    [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("eu-central-1", "eu-central-1")],
)
def test_a_buckets_region_from_its_location_constraint(constraint: str | None, region: str) -> None:
    """GetBucketLocation answers `EU` for old eu-west-1 buckets: a client for region "EU" cannot be made."""
    from parity.sources.aws.types.s3 import bucket_region

    assert bucket_region(constraint) == region
