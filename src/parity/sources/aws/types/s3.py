"""S3 buckets with their versioning, encryption, public access block, policy and tags.

``ListBuckets`` is global; each bucket's settings are read from its own region. Settings that are not
set answer with an error code (``NoSuchBucketPolicy``, ...): those mean "absent", not a failure.
Besides ``aws_s3_bucket`` (which, as in Terraform's state, carries versioning, encryption and policy),
the separate resources of AWS provider v4+ (``aws_s3_bucket_versioning``, ...) are emitted too, as
children of the bucket, so states written either way compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# botocore is imported by the functions that catch its errors, when they run: every command that collects
# imports this module (parity.registry loads every source), with an AWS source or not.
from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_ABSENT = frozenset(
    {"NoSuchBucketPolicy", "NoSuchTagSet", "NoSuchPublicAccessBlockConfiguration",
     "ServerSideEncryptionConfigurationNotFoundError", "NoSuchConfiguration"}
)  # fmt: skip


def _optional(call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    import botocore.exceptions

    try:
        return call(**kwargs)
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in _ABSENT:
            return None
        raise


def _encryption(raw: dict[str, Any] | None) -> list[Json]:
    if not raw:
        return []
    rules = []
    for rule in raw.get("ServerSideEncryptionConfiguration", {}).get("Rules", []):
        d = rule.get("ApplyServerSideEncryptionByDefault", {})
        rules.append(
            {
                "apply_server_side_encryption_by_default": [
                    {"sse_algorithm": d.get("SSEAlgorithm", ""), "kms_master_key_id": d.get("KMSMasterKeyID", "")}
                ],
                "bucket_key_enabled": bool(rule.get("BucketKeyEnabled", False)),
            }
        )
    return [{"rule": rules}]


def bucket_region(constraint: str | None) -> str:
    """The region a GetBucketLocation answer names: none is us-east-1, and buckets made before regions had
    names answer ``EU`` for eu-west-1 (there is no region "EU": a client for it cannot be made)."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def _buckets(f: Fetch) -> Iterator[Resource]:
    s3 = f.client("s3")
    for page in f.pages(s3, "list_buckets"):
        for b in page.get("Buckets", []):
            name = b["Name"]
            loc = bucket_region(s3.get_bucket_location(Bucket=name).get("LocationConstraint"))
            c = f.client("s3", loc)
            ver = c.get_bucket_versioning(Bucket=name)
            enc = _encryption(_optional(c.get_bucket_encryption, Bucket=name))
            pab = _optional(c.get_public_access_block, Bucket=name)
            pol = _optional(c.get_bucket_policy, Bucket=name)
            tagging = _optional(c.get_bucket_tagging, Bucket=name)
            tags = tags_from_list((tagging or {}).get("TagSet", []))
            arn = f"arn:{f.partition}:s3:::{name}"
            versioning = [{"enabled": ver.get("Status") == "Enabled", "mfa_delete": ver.get("MFADelete") == "Enabled"}]
            attrs: dict[str, Json] = {"bucket": name, "region": loc, "versioning": versioning}
            if enc:
                attrs["server_side_encryption_configuration"] = enc
            if pol:
                attrs["policy"] = pol.get("Policy", "")
            yield f.resource("aws_s3_bucket", name, arn=arn, attributes=attrs, tags=tags)
            status = ver.get("Status") or "Disabled"
            yield f.resource("aws_s3_bucket_versioning", name, arn=f"{arn}/versioning",
                             attributes={"bucket": name, "versioning_configuration": [{"status": status}]})  # fmt: skip
            if enc:
                yield f.resource("aws_s3_bucket_server_side_encryption_configuration", name, arn=f"{arn}/encryption",
                                 attributes={"bucket": name, "rule": enc[0]["rule"]})  # fmt: skip
            if pab:
                cfg = pab.get("PublicAccessBlockConfiguration", {})
                yield f.resource(
                    "aws_s3_bucket_public_access_block",
                    name,
                    arn=f"{arn}/public-access-block",
                    attributes={
                        "bucket": name,
                        "block_public_acls": bool(cfg.get("BlockPublicAcls")),
                        "block_public_policy": bool(cfg.get("BlockPublicPolicy")),
                        "ignore_public_acls": bool(cfg.get("IgnorePublicAcls")),
                        "restrict_public_buckets": bool(cfg.get("RestrictPublicBuckets")),
                    },
                )
            if pol:
                yield f.resource("aws_s3_bucket_policy", name, arn=f"{arn}/policy",
                                 attributes={"bucket": name, "policy": pol.get("Policy", "")})  # fmt: skip


_CHILD = ("aws_s3_bucket", "bucket")

register(
    Lister(
        name="s3.buckets",
        service="s3",
        global_=True,
        calls=(
            "s3:ListAllMyBuckets",
            "s3:GetBucketLocation",
            "s3:GetBucketVersioning",
            "s3:GetEncryptionConfiguration",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetBucketPolicy",
            "s3:GetBucketTagging",
        ),
        types=(
            AwsType("aws_s3_bucket", "S3 buckets (versioning, encryption, policy, tags)",
                    compared=("tags", "versioning", "server_side_encryption_configuration")),
            AwsType("aws_s3_bucket_versioning", "S3 bucket versioning (provider v4+ resource)",
                    compared=("versioning_configuration",), parent=_CHILD),
            AwsType("aws_s3_bucket_server_side_encryption_configuration", "S3 default encryption (provider v4+)",
                    compared=("rule",), parent=_CHILD),
            AwsType("aws_s3_bucket_public_access_block", "S3 public access block",
                    compared=("block_public_acls", "block_public_policy", "ignore_public_acls",
                              "restrict_public_buckets"), parent=_CHILD),
            AwsType("aws_s3_bucket_policy", "S3 bucket policies", compared=("policy",), parent=_CHILD),
        ),
        fetch=_buckets,
    )
)  # fmt: skip
