"""KMS keys (description, usage, rotation, key policy, tags) and aliases, per region.

``ListKeys`` and ``ListAliases`` list a region; each key is described with ``DescribeKey``. Customer
managed keys are then read further: rotation (``GetKeyRotationStatus``), the key policy
(``GetKeyPolicy``, policy name ``default``, the only one there is) and tags (``ListResourceTags``).
AWS managed keys (``KeyManager`` ``AWS``: ``aws/s3``, ``aws/ebs``...) are kept, marked AWS-owned, without
those reads: no code declares them. Keys pending deletion are kept, with their ``key_state``, so a
state declaring one is not reported missing while the key still exists.

Ids are Terraform's: the key id (a UUID) for ``aws_kms_key``, the alias name (``alias/x``) for
``aws_kms_alias``. AWS's own aliases (``alias/aws/*``) are not listed. A key's ``name`` is its first
alias (what carries the environment in ``shop-prod-orders``), so keys pair across accounts by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# botocore is imported by the functions that catch its errors, when they run: every command that collects
# imports this module (parity.registry loads every source), with an AWS source or not.
from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

# Answers meaning "this optional setting cannot be read for this key" (asymmetric keys have no rotation,
# keys in some states answer with their state, moto answers NotFound for a pending-deletion key's policy).
_ABSENT = frozenset({"UnsupportedOperationException", "KMSInvalidStateException", "NotFoundException"})
AWS_ALIAS_PREFIX = "alias/aws/"


def _optional(call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    import botocore.exceptions

    try:
        return call(**kwargs)
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in _ABSENT:
            return None
        raise


def _key_attributes(f: Fetch, kms: Any, meta: dict[str, Any]) -> tuple[dict[str, Json], dict[str, str]]:
    """Terraform's attributes of a customer managed key, and its tags."""
    import botocore.exceptions

    kid = meta["KeyId"]
    attrs: dict[str, Json] = {
        "key_id": kid,
        "description": meta.get("Description", ""),
        "key_usage": meta.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "customer_master_key_spec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec", ""),
        "is_enabled": bool(meta.get("Enabled")),
        "multi_region": bool(meta.get("MultiRegion", False)),
        "key_state": meta.get("KeyState", ""),  # not a Terraform attribute: Enabled, Disabled, PendingDeletion...
    }
    if meta.get("KeyManager") == "AWS":
        return attrs, {}
    rotation = _optional(kms.get_key_rotation_status, KeyId=kid)
    attrs["enable_key_rotation"] = bool((rotation or {}).get("KeyRotationEnabled", False))
    if rotation and rotation.get("RotationPeriodInDays"):
        attrs["rotation_period_in_days"] = int(rotation["RotationPeriodInDays"])
    policy = _optional(kms.get_key_policy, KeyId=kid, PolicyName="default")
    if policy and policy.get("Policy"):
        attrs["policy"] = policy["Policy"]
    tags: list[Any] = []
    try:
        for page in f.pages(kms, "list_resource_tags", KeyId=kid):
            tags.extend(page.get("Tags", []))
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") not in _ABSENT:
            raise
    return attrs, tags_from_list(tags, "TagKey", "TagValue")


def _keys(f: Fetch) -> Iterator[Resource]:
    kms = f.client("kms")
    aliases: dict[str, list[str]] = {}  # key id -> its alias names
    for page in f.pages(kms, "list_aliases"):
        for a in page.get("Aliases", []):
            name, target = a["AliasName"], a.get("TargetKeyId")
            if target:
                aliases.setdefault(target, []).append(name)
            if name.startswith(AWS_ALIAS_PREFIX) or not target:
                continue  # AWS's own aliases: not this account's configuration
            attrs: dict[str, Json] = {"name": name, "target_key_id": target,
                                      "target_key_arn": f.arn("kms", f"key/{target}")}  # fmt: skip
            yield f.resource("aws_kms_alias", name, arn=a.get("AliasArn"), attributes=attrs)
    for page in f.pages(kms, "list_keys"):
        for k in page.get("Keys", []):
            described = _optional(kms.describe_key, KeyId=k["KeyId"])
            if described is None:
                continue  # deleted between the listing and the description
            meta = described["KeyMetadata"]
            attrs, tags = _key_attributes(f, kms, meta)
            names = sorted(aliases.get(meta["KeyId"], []))
            name = names[0].removeprefix("alias/") if names else meta["KeyId"]
            yield f.resource("aws_kms_key", meta["KeyId"], name=name, arn=meta.get("Arn"), attributes=attrs,
                             tags=tags, aws_managed=meta.get("KeyManager") == "AWS")  # fmt: skip


register(
    Lister(
        name="kms.keys",
        service="kms",
        calls=("kms:ListAliases", "kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy",
               "kms:ListResourceTags"),
        types=(
            AwsType("aws_kms_key", "KMS keys (description, usage, rotation, key policy, tags)",
                    compared=("description", "key_usage", "is_enabled", "enable_key_rotation", "policy", "tags")),
            AwsType("aws_kms_alias", "KMS aliases (target key)", compared=("target_key_id",)),
        ),
        fetch=_keys,
        notes="DescribeKey per key; rotation, policy and tags per customer managed key",
    )
)  # fmt: skip
