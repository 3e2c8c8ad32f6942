"""Severity of findings: one small explicit table, kept here as data.

| kind                  | condition                                                          | severity |
|-----------------------|--------------------------------------------------------------------|----------|
| differs               | security-relevant type, or a changed path that is security-relevant | high     |
| differs               | otherwise (a configuration setting differs)                         | medium   |
| only_in               | the resource exists only in the later promotion stage               | high     |
| only_in               | otherwise                                                           | medium   |
| changed               | security-relevant type or path                                      | high     |
| changed               | otherwise                                                           | medium   |
| unmanaged             | always                                                              | medium   |
| missing               | always                                                              | high     |
| cross_env_reference   | both environments are in the promotion order                        | high     |
| cross_env_reference   | otherwise                                                           | medium   |

"Security-relevant" is :data:`SECURITY_TYPES` (type globs) and :data:`SECURITY_PATH` (a pattern on
change paths: policies, principals, security contexts, CIDRs, ingress/egress rules, KMS keys, RBAC).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from parity.model import Change, Severity

SECURITY_TYPES: tuple[str, ...] = (
    "aws_iam_*",
    "aws_security_group*",
    "aws_default_security_group",
    "aws_vpc_security_group_*",
    "aws_network_acl*",
    "aws_kms_*",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_acl",
    "aws_secretsmanager_*",
    "aws_lambda_permission",
    "aws_sns_topic_policy",
    "aws_sqs_queue_policy",
    "aws_organizations_*",
    "rbac.authorization.k8s.io/*",
    "networking.k8s.io/*/NetworkPolicy",
    "v1/Secret",
    "v1/ServiceAccount",
)

SECURITY_PATH = re.compile(
    r"(?i)(polic|principal|securitycontext|privileged|capabilit|cidr|ingress|egress|kms|"
    r"assume_role|trust|permission|acl|encrypt|public_access|rbac|serviceaccount|hostnetwork)"
)

# (kind, condition) -> severity. Conditions: "security", "later_stage", "both_promoted", "default".
SEVERITY_TABLE: dict[tuple[str, str], Severity] = {
    ("differs", "security"): "high",
    ("differs", "default"): "medium",
    ("only_in", "later_stage"): "high",
    ("only_in", "default"): "medium",
    ("changed", "security"): "high",
    ("changed", "default"): "medium",
    ("unmanaged", "default"): "medium",
    ("missing", "default"): "high",
    ("cross_env_reference", "both_promoted"): "high",
    ("cross_env_reference", "default"): "medium",
}


def is_security_type(type_: str) -> bool:
    return any(fnmatch.fnmatchcase(type_, g) for g in SECURITY_TYPES)


def is_security_change(type_: str, changes: Iterable[Change]) -> bool:
    return is_security_type(type_) or any(SECURITY_PATH.search(c.path) for c in changes)


def severity(kind: str, condition: str = "default") -> Severity:
    """The table's severity for ``kind`` under ``condition``, falling back to the kind's default."""
    return SEVERITY_TABLE.get((kind, condition)) or SEVERITY_TABLE.get((kind, "default"), "medium")


def change_severity(kind: str, type_: str, changes: Iterable[Change]) -> Severity:
    """Severity of a ``differs`` or ``changed`` finding from its type and its (kept) changes."""
    return severity(kind, "security" if is_security_change(type_, changes) else "default")


def only_in_severity(present_in: str, absent_from: str, promotion: tuple[str, ...]) -> Severity:
    later = (
        present_in in promotion
        and absent_from in promotion
        and promotion.index(present_in) > promotion.index(absent_from)
    )
    return severity("only_in", "later_stage" if later else "default")


def reference_severity(env: str, reached: Iterable[str], promotion: tuple[str, ...]) -> Severity:
    both = env in promotion and any(r in promotion for r in reached)
    return severity("cross_env_reference", "both_promoted" if both else "default")
