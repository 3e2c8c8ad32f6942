"""Lambda functions: configuration from ``ListFunctions``, tags from ``ListTags``.

``ListFunctions`` gives each function's whole configuration in one paginated call, so no per-function
describe is needed. ``GetFunction`` is never called (it returns a presigned URL to the code; the guard
refuses it). Every environment variable value is replaced by a keyed hash (keys kept): a function's
environment is where secrets live, so a change stays visible and the value never is.
``source_code_hash`` is the code's SHA-256 (base64), as in Terraform's state: the promotion ledger
uses it to follow the same code from staging to production.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parity.model import Json, Resource
from parity.sources.aws.spec import AwsType, Fetch, Lister, register


def _environment(f: Fetch, cfg: dict[str, Any]) -> list[Json]:
    variables = (cfg.get("Environment") or {}).get("Variables")
    if not variables:
        return []
    return [{"variables": {k: f.redact(v) for k, v in sorted(variables.items())}}]


def _vpc(cfg: dict[str, Any]) -> list[Json]:
    vpc = cfg.get("VpcConfig") or {}
    if not vpc.get("VpcId"):
        return []
    subnets, groups = sorted(vpc.get("SubnetIds", [])), sorted(vpc.get("SecurityGroupIds", []))
    return [{"subnet_ids": subnets, "security_group_ids": groups, "vpc_id": vpc["VpcId"]}]


def _attributes(f: Fetch, cfg: dict[str, Any]) -> dict[str, Json]:
    attrs: dict[str, Json] = {
        "function_name": cfg["FunctionName"],
        "handler": cfg.get("Handler", ""),
        "runtime": cfg.get("Runtime", ""),
        "role": cfg.get("Role", ""),
        "memory_size": int(cfg.get("MemorySize", 128)),
        "timeout": int(cfg.get("Timeout", 3)),
        "description": cfg.get("Description", ""),
        "environment": _environment(f, cfg),
        "layers": [layer["Arn"] for layer in cfg.get("Layers", [])],
        "architectures": list(cfg.get("Architectures") or ["x86_64"]),
        "package_type": cfg.get("PackageType", "Zip"),
        "source_code_hash": cfg.get("CodeSha256", ""),
        "source_code_size": int(cfg.get("CodeSize", 0)),
        "kms_key_arn": cfg.get("KMSKeyArn", ""),
        "tracing_config": [{"mode": (cfg.get("TracingConfig") or {}).get("Mode", "PassThrough")}],
        "vpc_config": _vpc(cfg),
    }
    dlq = (cfg.get("DeadLetterConfig") or {}).get("TargetArn")
    attrs["dead_letter_config"] = [{"target_arn": dlq}] if dlq else []
    return attrs


def _functions(f: Fetch) -> Iterator[Resource]:
    lam = f.client("lambda")
    for page in f.pages(lam, "list_functions"):
        for cfg in page.get("Functions", []):
            arn = cfg["FunctionArn"]
            tags = lam.list_tags(Resource=arn).get("Tags", {}) or {}
            # Terraform's id for a function is its name.
            yield f.resource("aws_lambda_function", cfg["FunctionName"], arn=arn, attributes=_attributes(f, cfg),
                             tags=tags)  # fmt: skip


register(
    Lister(
        name="lambda.functions",
        service="lambda",
        calls=("lambda:ListFunctions", "lambda:ListTags"),
        types=(
            AwsType(
                "aws_lambda_function",
                "Lambda functions (configuration; environment values hashed; code hash)",
                compared=(
                    "runtime",
                    "handler",
                    "memory_size",
                    "timeout",
                    "role",
                    "environment",
                    "layers",
                    "architectures",
                    "tags",
                ),
                secret_paths=("environment[].variables.*",),
            ),
        ),
        fetch=_functions,
        notes="GetFunction is never called: it returns a presigned URL to the code.",
    )
)
