"""Kubernetes kinds that are cluster-scoped (no namespace), as data, keyed by API group and kind.

Kubernetes knows a kind by its group: ``networking.k8s.io`` ``IPAddress`` is cluster-scoped while
Cluster API's ``ipam.cluster.x-k8s.io`` ``IPAddress`` is namespaced, so a kind name alone does not say.
The core group is ``""`` (``apiVersion: v1``). A kind not listed here is taken as namespaced, which is
what most custom kinds are, unless a ``CustomResourceDefinition`` read with it says ``scope: Cluster``
(see :func:`crd_scopes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from parity.model import Json

_BY_GROUP: dict[str, tuple[str, ...]] = {
    "": ("ComponentStatus", "Namespace", "Node", "PersistentVolume"),
    "admissionregistration.k8s.io": (
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
    ),
    "apiextensions.k8s.io": ("CustomResourceDefinition",),
    "apiregistration.k8s.io": ("APIService",),
    "authentication.k8s.io": ("SelfSubjectReview", "TokenReview"),
    "authorization.k8s.io": ("SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"),
    "certificates.k8s.io": ("CertificateSigningRequest", "ClusterTrustBundle"),
    "extensions": ("PodSecurityPolicy",),
    "flowcontrol.apiserver.k8s.io": ("FlowSchema", "PriorityLevelConfiguration"),
    "internal.apiserver.k8s.io": ("StorageVersion",),
    "networking.k8s.io": ("IngressClass", "IPAddress", "ServiceCIDR"),
    "node.k8s.io": ("RuntimeClass",),
    "policy": ("PodSecurityPolicy",),
    "rbac.authorization.k8s.io": ("ClusterRole", "ClusterRoleBinding"),
    "resource.k8s.io": ("DeviceClass", "DeviceTaintRule", "ResourceSlice"),
    "scheduling.k8s.io": ("PriorityClass",),
    "storage.k8s.io": ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment", "VolumeAttributesClass"),
    "storagemigration.k8s.io": ("StorageVersionMigration",),
    # widely installed add-ons
    "cert-manager.io": ("ClusterIssuer",),
    "external-secrets.io": ("ClusterExternalSecret", "ClusterSecretStore"),
    "gateway.networking.k8s.io": ("GatewayClass",),
    "karpenter.k8s.aws": ("EC2NodeClass",),
    "karpenter.sh": ("NodeClaim", "NodePool"),
    "kyverno.io": ("ClusterCleanupPolicy", "ClusterPolicy"),
    "nvidia.com": ("ClusterPolicy",),
    "snapshot.storage.k8s.io": ("VolumeSnapshotClass", "VolumeSnapshotContent"),
    "templates.gatekeeper.sh": ("ConstraintTemplate",),
}

CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    (group, kind) for group, kinds in _BY_GROUP.items() for kind in kinds
)
# Kind names without their group, for readers that only know the kind.
CLUSTER_SCOPED_KINDS: frozenset[str] = frozenset(kind for _, kind in CLUSTER_SCOPED)


def api_group(api_version: str) -> str:
    """The group of an ``apiVersion``: ``apps`` for ``apps/v1``, ``""`` (core) for ``v1``."""
    return api_version.rpartition("/")[0]


def is_cluster_scoped(api_version: str, kind: str, custom: Mapping[tuple[str, str], bool] | None = None) -> bool:
    """Whether ``kind`` of ``api_version``'s group has no namespace; ``custom`` (from :func:`crd_scopes`)
    answers first for kinds a CustomResourceDefinition read alongside declares."""
    key = (api_group(api_version), kind)
    if custom:
        scoped = custom.get(key)
        if scoped is not None:
            return scoped
    return key in CLUSTER_SCOPED


def crd_scopes(objects: Iterable[Json]) -> dict[tuple[str, str], bool]:
    """``(group, kind) -> cluster-scoped`` for every well-formed CustomResourceDefinition among ``objects``
    (``spec.group``, ``spec.names.kind``, ``spec.scope`` ``Cluster`` or ``Namespaced``)."""
    out: dict[tuple[str, str], bool] = {}
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("kind") != "CustomResourceDefinition":
            continue
        api_version = obj.get("apiVersion")
        if not isinstance(api_version, str) or api_group(api_version) != "apiextensions.k8s.io":
            continue
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            continue
        group, names, scope = spec.get("group"), spec.get("names"), spec.get("scope")
        kind = names.get("kind") if isinstance(names, dict) else None
        if isinstance(group, str) and isinstance(kind, str) and scope in ("Cluster", "Namespaced"):
            out[(group, kind)] = scope == "Cluster"
    return out
