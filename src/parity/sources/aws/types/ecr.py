"""ECR repositories, with their repository policy and lifecycle policy.

``DescribeRepositories`` gives every repository's settings in one paginated call; tags, the repository
policy and the lifecycle policy need one call each per repository. A repository without a policy
answers with an error code (``RepositoryPolicyNotFoundException``, ``LifecyclePolicyNotFoundException``):
that means "absent". Terraform's id is the repository name for all three types; the policies are
children of their repository. Registry credentials (``GetAuthorizationToken``) are never requested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# botocore is imported by the functions that catch its errors, when they run: every command that collects
# imports this module (parity.registry loads every source), with an AWS source or not.
from parity.model import Json, Resource
from parity.sources.aws.owner import tags_from_list
from parity.sources.aws.spec import AwsType, Fetch, Lister, register

_ABSENT = frozenset({"RepositoryPolicyNotFoundException", "LifecyclePolicyNotFoundException"})


def _optional(call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    import botocore.exceptions

    try:
        return call(**kwargs)
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in _ABSENT:
            return None
        raise


def _repositories(f: Fetch) -> Iterator[Resource]:
    ecr = f.client("ecr")
    for page in f.pages(ecr, "describe_repositories"):
        for r in page.get("repositories", []):
            name, arn = r["repositoryName"], r["repositoryArn"]
            enc = r.get("encryptionConfiguration") or {}
            attrs: dict[str, Json] = {
                "name": name,
                "registry_id": r.get("registryId", ""),
                "repository_url": r.get("repositoryUri", ""),
                "image_tag_mutability": r.get("imageTagMutability", "MUTABLE"),
                "image_scanning_configuration": [
                    {"scan_on_push": bool((r.get("imageScanningConfiguration") or {}).get("scanOnPush", False))}
                ],
                "encryption_configuration": [
                    {"encryption_type": enc.get("encryptionType", "AES256"), "kms_key": enc.get("kmsKey", "")}
                ],
            }
            tags = tags_from_list(ecr.list_tags_for_resource(resourceArn=arn).get("tags", []))
            yield f.resource("aws_ecr_repository", name, arn=arn, attributes=attrs, tags=tags)
            pol = _optional(ecr.get_repository_policy, repositoryName=name, registryId=r.get("registryId", ""))
            if pol and pol.get("policyText"):
                yield f.resource("aws_ecr_repository_policy", name, name=name, arn=f"{arn}/policy",
                                 attributes={"repository": name, "registry_id": r.get("registryId", ""),
                                             "policy": pol["policyText"]})  # fmt: skip
            life = _optional(ecr.get_lifecycle_policy, repositoryName=name, registryId=r.get("registryId", ""))
            if life and life.get("lifecyclePolicyText"):
                yield f.resource("aws_ecr_lifecycle_policy", name, name=name, arn=f"{arn}/lifecycle-policy",
                                 attributes={"repository": name, "registry_id": r.get("registryId", ""),
                                             "policy": life["lifecyclePolicyText"]})  # fmt: skip


_CHILD = ("aws_ecr_repository", "repository")

register(
    Lister(
        name="ecr.repositories",
        service="ecr",
        calls=(
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:GetRepositoryPolicy",
            "ecr:GetLifecyclePolicy",
        ),
        types=(
            AwsType(
                "aws_ecr_repository",
                "ECR repositories (tag mutability, scanning, encryption, tags)",
                compared=("image_tag_mutability", "image_scanning_configuration", "encryption_configuration", "tags"),
            ),
            AwsType("aws_ecr_repository_policy", "ECR repository policies", compared=("policy",), parent=_CHILD),
            AwsType("aws_ecr_lifecycle_policy", "ECR lifecycle policies", compared=("policy",), parent=_CHILD),
        ),
        fetch=_repositories,
    )
)
