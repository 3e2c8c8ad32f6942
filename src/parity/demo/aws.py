"""Live AWS for the demo, without credentials: a local moto server with a staging and a production account.

The accounts are seeded from the example's own Terraform states (so code and live agree by
construction), then drifted by hand the way real accounts drift: a console change, a resource created
outside Terraform, a resource deleted. This module writes, but only ever to the moto server it started
on 127.0.0.1; parity's scanning code never writes (its clients are guarded).

Network objects (VPCs, subnets, security groups) get new random ids on every start of the server, so
the demo does not list those types live: the states' ids could never match.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

# Types the demo does not list live (see the module docstring).
NOT_LISTED = [
    "aws_vpc",
    "aws_subnet",
    "aws_security_group*",
    "aws_vpc_security_group_*",
    "aws_route_table",
    "aws_instance",
    "aws_ebs_volume",
]
REGION = "eu-west-1"
ENDPOINT_VAR = "PARITY_DEMO_AWS_ENDPOINT"


def available() -> bool:
    """True where moto's server is installed (it is a development dependency)."""
    return importlib.util.find_spec("moto") is not None and importlib.util.find_spec("flask") is not None


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port, for the duration of the demo."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    for k, v in (("AWS_ACCESS_KEY_ID", "demo"), ("AWS_SECRET_ACCESS_KEY", "demo"), ("AWS_DEFAULT_REGION", REGION)):
        os.environ.setdefault(k, v)
    import logging

    # the server's own request log and its tracebacks for calls it does not implement are not the demo's
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _session(url: str, account: str) -> Any:
    import boto3

    sts = boto3.client("sts", endpoint_url=url, region_name=REGION)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/demo-setup", RoleSessionName="parity-demo")
    creds = c["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _instances(state: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for r in state.get("resources", []):
        if r.get("mode") == "managed":
            for inst in r.get("instances", []):
                yield r["type"], inst["attributes"]


def _tags(attrs: dict[str, Any]) -> dict[str, str]:
    return dict(attrs.get("tags") or {})


def _zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # a fixed timestamp: the same code hashes the same in both accounts
        z.writestr(zipfile.ZipInfo("app.py", (2026, 1, 1, 0, 0, 0)), "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def seed_from_state(url: str, account: str, state: dict[str, Any], skip: set[str]) -> None:
    """Create in ``account`` what the state declares (for the types the demo lists live), and write back
    into ``state`` the ids the server generated, as ``terraform apply`` would have recorded them."""
    sess = _session(url, account)
    s3, sqs = sess.client("s3", endpoint_url=url), sess.client("sqs", endpoint_url=url)
    iam, logs = sess.client("iam", endpoint_url=url), sess.client("logs", endpoint_url=url)
    rds, lam = sess.client("rds", endpoint_url=url), sess.client("lambda", endpoint_url=url)
    # roles first: functions name them
    ordered = sorted(_instances(state), key=lambda ta: ta[0] != "aws_iam_role")
    for type_, a in ordered:
        if a.get("id") in skip or a.get("name") in skip:
            continue
        if type_ == "aws_s3_bucket":
            s3.create_bucket(Bucket=a["bucket"], CreateBucketConfiguration={"LocationConstraint": REGION})
            for cfg in a.get("server_side_encryption_configuration", []):
                rule = cfg["rule"][0]
                default = rule["apply_server_side_encryption_by_default"][0]
                s3.put_bucket_encryption(
                    Bucket=a["bucket"],
                    ServerSideEncryptionConfiguration={
                        "Rules": [
                            {
                                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": default["sse_algorithm"]},
                                "BucketKeyEnabled": rule.get("bucket_key_enabled", False),
                            }
                        ]
                    },
                )
            if any(v.get("enabled") for v in a.get("versioning", [])):
                s3.put_bucket_versioning(Bucket=a["bucket"], VersioningConfiguration={"Status": "Enabled"})
            if a.get("tags"):
                s3.put_bucket_tagging(
                    Bucket=a["bucket"], Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in _tags(a).items()]}
                )
        elif type_ == "aws_sqs_queue":
            sqs.create_queue(
                QueueName=a["name"],
                tags=_tags(a),
                Attributes={
                    "VisibilityTimeout": str(a["visibility_timeout_seconds"]),
                    "MessageRetentionPeriod": str(a["message_retention_seconds"]),
                    "DelaySeconds": str(a["delay_seconds"]),
                },
            )
        elif type_ == "aws_iam_role":
            iam.create_role(
                RoleName=a["name"],
                AssumeRolePolicyDocument=a["assume_role_policy"],
                Path=a.get("path", "/"),
                MaxSessionDuration=a.get("max_session_duration", 3600),
                Tags=[{"Key": k, "Value": v} for k, v in _tags(a).items()],
            )
        elif type_ == "aws_iam_role_policy":
            iam.put_role_policy(RoleName=a["role"], PolicyName=a["name"], PolicyDocument=a["policy"])
        elif type_ == "aws_db_instance":
            created = rds.create_db_instance(
                DBInstanceIdentifier=a["identifier"],
                DBInstanceClass=a["instance_class"],
                Engine=a["engine"],
                EngineVersion=a["engine_version"],
                AllocatedStorage=a["allocated_storage"],
                MasterUsername=a["username"],
                MasterUserPassword=a["password"],
                MultiAZ=a["multi_az"],
                StorageEncrypted=a["storage_encrypted"],
                BackupRetentionPeriod=a["backup_retention_period"],
                DeletionProtection=a["deletion_protection"],
                PubliclyAccessible=a["publicly_accessible"],
                Tags=[{"Key": k, "Value": v} for k, v in _tags(a).items()],
            )["DBInstance"]
            a["resource_id"] = a["id"] = created["DbiResourceId"]  # provider v5: the id is the resource id
        elif type_ == "aws_lambda_function":
            env_vars = (a.get("environment") or [{}])[0].get("variables", {})
            lam.create_function(
                FunctionName=a["function_name"],
                Runtime=a["runtime"],
                Role=a["role"],
                Handler=a["handler"],
                Code={"ZipFile": _zip()},
                MemorySize=a["memory_size"],
                Timeout=a["timeout"],
                Environment={"Variables": env_vars},
                Tags=_tags(a),
            )
        elif type_ == "aws_cloudwatch_log_group":
            logs.create_log_group(logGroupName=a["name"], tags=_tags(a))
            logs.put_retention_policy(logGroupName=a["name"], retentionInDays=a["retention_in_days"])


def drift_by_hand(url: str, accounts: dict[str, str]) -> None:
    """What people did in the console after the last `terraform apply`."""
    prod = _session(url, accounts["production"])
    sqs = prod.client("sqs", endpoint_url=url)
    q = sqs.get_queue_url(QueueName="greenflash-orders-production")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=q, Attributes={"VisibilityTimeout": "90"})  # "messages time out"
    prod.client("s3", endpoint_url=url).create_bucket(  # a one-off export, never cleaned up
        Bucket="greenflash-debug-dump-production", CreateBucketConfiguration={"LocationConstraint": REGION}
    )


def prepare(workdir: Path, url: str) -> Path:
    """Seed the accounts from the example's states, drift them, and write ``parity-aws.yaml``."""
    config = yaml.safe_load((workdir / "parity.yaml").read_text())
    accounts = {env: cfg["accounts"][0] for env, cfg in config["environments"].items()}
    for env, account in accounts.items():
        state_file = workdir / "terraform" / env / "terraform.tfstate"
        state = json.loads(state_file.read_text())
        # staging's audit log group was deleted by hand during a clean-up
        skip = {"/greenflash/staging/audit"} if env == "staging" else set()
        seed_from_state(url, account, state, skip)
        state_file.write_text(json.dumps(state, indent=2) + "\n")
    drift_by_hand(url, accounts)
    for env, account in accounts.items():
        config["environments"][env]["sources"].append(
            {
                "kind": "aws",
                "name": "aws",
                "regions": [REGION],
                "endpoint_url": "${" + ENDPOINT_VAR + ":-http://127.0.0.1:9}",
                "role_arn": f"arn:aws:iam::{account}:role/parity-readonly",
                "resource_types": {"exclude": NOT_LISTED},
            }
        )
    config["store"] = "sqlite:///.parity/parity-aws.db"
    config["attribution"] = {"enabled": False}  # moto keeps no CloudTrail event history
    out = workdir / "parity-aws.yaml"
    header = (
        "# Written by `parity demo`: parity.yaml plus a live AWS source per environment, served by a local\n"
        f"# moto server whose address is in ${ENDPOINT_VAR} while the demo runs (history, accept and diff of\n"
        "# the file sources work without it; a new scan of the AWS sources needs `parity demo` again).\n"
    )
    out.write_text(header + yaml.safe_dump(config, sort_keys=False, width=110))
    return out
