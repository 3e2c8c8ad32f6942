"""Who owns a live AWS resource, from what the resource itself says.

Terraform ownership is not decided here: a live resource that pairs with a declaration of its
environment is managed. Here: CloudFormation (its ``aws:cloudformation:*`` tags), Kubernetes (tags EKS
and its controllers put on what they create), AWS itself (defaults and service-made objects: the
listing module says so with ``aws_managed=True``), or nobody.
"""

from __future__ import annotations

from collections.abc import Mapping

from parity.model import Owner

_CFN_TAG = "aws:cloudformation:stack-name"
_K8S_TAG_PREFIXES = ("kubernetes.io/cluster/", "eks:", "elbv2.k8s.aws/", "ingress.k8s.aws/", "service.k8s.aws/",
                     "karpenter.sh/", "alpha.eksctl.io/")  # fmt: skip


def owner_from_tags(tags: Mapping[str, str], aws_managed: bool = False) -> Owner:
    if aws_managed:
        return "aws-managed"
    if _CFN_TAG in tags:
        return "cloudformation"
    if any(k.startswith(_K8S_TAG_PREFIXES) for k in tags):
        return "kubernetes"
    return "none"


def tags_from_list(items: object, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """AWS's ``[{"Key": k, "Value": v}]`` tag lists (and their ``TagKey``/``tagKey`` variants) as a dict."""
    out: dict[str, str] = {}
    if isinstance(items, list):
        for t in items:
            if isinstance(t, dict) and key in t:
                out[str(t[key])] = "" if t.get(value) is None else str(t.get(value))
    elif isinstance(items, dict):
        out = {str(k): "" if v is None else str(v) for k, v in items.items()}
    return out
