"""Kubernetes kinds that are cluster-scoped (no namespace), as data.

Built-in kinds only, by ``kind`` name (the few names reused by namespaced kinds in other API groups
are keyed with their group). A custom resource kind not listed here is taken as namespaced, which
is what most are; a cluster-scoped custom kind then gets the default namespace in its key.
"""

from __future__ import annotations

CLUSTER_SCOPED_KINDS: frozenset[str] = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ComponentStatus",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "SelfSubjectAccessReview",
        "SelfSubjectReview",
        "SelfSubjectRulesReview",
        "StorageClass",
        "StorageVersionMigration",
        "SubjectAccessReview",
        "TokenReview",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeAttributesClass",
        "DeviceClass",
        "ResourceSlice",
        "IPAddress",
        "ServiceCIDR",
        # widely installed add-ons
        "ClusterIssuer",  # cert-manager
        "ClusterSecretStore",  # external-secrets
        "ClusterPolicy",  # kyverno
        "GatewayClass",  # gateway API
    }
)


def is_cluster_scoped(kind: str) -> bool:
    return kind in CLUSTER_SCOPED_KINDS
