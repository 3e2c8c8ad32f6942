"""SSM parameters: metadata for all, values for String and StringList, never a SecureString value.

``DescribeParameters`` lists every parameter's metadata (moto pages it at 10; botocore's paginator
follows). ``String`` and ``StringList`` values are read in batches of ten with ``GetParameters`` and
``WithDecryption=False`` (the guard refuses decryption). A ``SecureString``'s value is never requested:
its resource has no ``value`` attribute and ``type`` says ``SecureString``. Tags come from
``ListTagsForResource`` per parameter (the API has no batch form).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_READABLE = ("String", "StringList")
_BATCH = 10  # GetParameters' limit


def _values(ssm: Any, names: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(names), _BATCH):
        got = ssm.get_parameters(Names=names[i : i + _BATCH], WithDecryption=False)
        for p in got.get("Parameters", []):
            if p.get("Type") in _READABLE:  # never keep anything else, whatever the API answered
                out[p["Name"]] = p.get("Value", "")
    return out


def _parameters(f: Fetch) -> Iterator[Resource]:
    ssm = f.client("ssm")
    metas: list[dict[str, Any]] = []
    for page in f.pages(ssm, "describe_parameters"):
        metas.extend(page.get("Parameters", []))
    values = _values(ssm, [m["Name"] for m in metas if m.get("Type") in _READABLE])
    for m in metas:
        name = m["Name"]
        attrs: dict[str, Json] = {
            "name": name,
            "type": m.get("Type", ""),
            "description": m.get("Description", ""),
            "tier": m.get("Tier", "Standard"),
            "data_type": m.get("DataType", "text"),
            "version": int(m.get("Version", 0)),
            "allowed_pattern": m.get("AllowedPattern", ""),
        }
        if m.get("KeyId"):
            attrs["key_id"] = m["KeyId"]
        if m.get("Type") in _READABLE and name in values:
            # Terraform keeps every parameter's value sensitive, so states hold it hashed: hash it here too.
            attrs["value"] = f.redact(values[name])
        tags = tags_from_list(ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name).get("TagList", []))
        arn = m.get("ARN") or f.arn("ssm", f"parameter/{name.lstrip('/')}")
        # Terraform's id for a parameter is its name.
        yield f.resource("aws_ssm_parameter", name, arn=arn, attributes=attrs, tags=tags)


register(
    Lister(
        name="ssm.parameters",
        service="ssm",
        calls=("ssm:DescribeParameters", "ssm:GetParameters", "ssm:ListTagsForResource"),
        types=(
            AwsType(
                "aws_ssm_parameter",
                "SSM parameters (String/StringList values; SecureString values never read)",
                compared=("type", "value", "description", "tier", "data_type", "tags"),
                secret_paths=("value",),
            ),
        ),
        fetch=_parameters,
        notes="GetParameters is called with WithDecryption=False and only for String and StringList parameters.",
    )
)
