"""Odd but valid Kubernetes manifests read the way Kubernetes means them (no silent misreading)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Literal

import pytest

from parity.config import KubernetesManifestsSource
from parity.errors import InputError
from parity.model import Snapshot
from parity.redact import Redactor
from parity.registry import CollectContext
from parity.sources.kubernetes.manifests import collect


def _snap(
    tmp_path: Path, redactor: Redactor, text: str, role: Literal["live", "declared"] = "declared", **kw: object
) -> Snapshot:
    (tmp_path / "m.yaml").write_text(textwrap.dedent(text))
    ctx = CollectContext(
        environment="production", source_name="k8s", base_dir=tmp_path, redactor=redactor, role=role, tokens={}
    )
    spec = KubernetesManifestsSource.model_validate({"kind": "kubernetes-manifests", "path": ".", **kw})
    (snap,) = collect(spec, ctx)
    return snap


def _keys(snap: Snapshot) -> list[str]:
    return [r.key for r in snap.resources]


def test_one_object_under_two_versions_is_a_duplicate(tmp_path: Path, redactor: Redactor) -> None:
    # Kubernetes knows an object by group, kind, namespace and name: both documents are one Deployment
    text = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        ---
        apiVersion: apps/v1beta2
        kind: Deployment
        metadata: {name: web, namespace: shop}
        """
    with pytest.raises(InputError) as err:
        _snap(tmp_path, redactor, text)
    assert str(err.value) == (
        "m.yaml:5: duplicate object apps/v1beta2/Deployment/shop/web (as apps/v1/Deployment): also declared at m.yaml:1"
    )


def test_same_kind_name_in_another_group_keeps_its_namespace(tmp_path: Path, redactor: Redactor) -> None:
    # networking.k8s.io IPAddress is cluster-scoped; Cluster API's IPAddress is namespaced
    snap = _snap(
        tmp_path,
        redactor,
        """\
        apiVersion: ipam.cluster.x-k8s.io/v1beta1
        kind: IPAddress
        metadata: {name: ip-1, namespace: team-a}
        ---
        apiVersion: ipam.cluster.x-k8s.io/v1beta1
        kind: IPAddress
        metadata: {name: ip-1, namespace: team-b}
        ---
        apiVersion: networking.k8s.io/v1
        kind: IPAddress
        metadata: {name: 10.0.0.1}
        """,
    )
    assert _keys(snap) == [
        "ipam.cluster.x-k8s.io/v1beta1/IPAddress/team-a/ip-1",
        "ipam.cluster.x-k8s.io/v1beta1/IPAddress/team-b/ip-1",
        "networking.k8s.io/v1/IPAddress/_/10.0.0.1",
    ]
    assert [r.id for r in snap.resources] == ["team-a/ip-1", "team-b/ip-1", "10.0.0.1"]


def test_a_crd_read_alongside_says_its_kind_is_cluster_scoped(tmp_path: Path, redactor: Redactor) -> None:
    snap = _snap(
        tmp_path,
        redactor,
        """\
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: w}
        ---
        apiVersion: example.com/v1
        kind: Gadget
        metadata: {name: g}
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          names: {kind: Widget, plural: widgets}
          scope: Cluster
        """,
        namespace="shop",
    )
    assert _keys(snap) == [
        "example.com/v1/Widget/_/w",  # declared cluster-scoped by its CRD: no namespace, whatever the option
        "example.com/v1/Gadget/shop/g",  # no CRD read: taken as namespaced
        "apiextensions.k8s.io/v1/CustomResourceDefinition/_/widgets.example.com",
    ]


def test_a_namespaced_crd_overrides_a_listed_kind_name(tmp_path: Path, redactor: Redactor) -> None:
    snap = _snap(
        tmp_path,
        redactor,
        """\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: clusterpolicies.example.com}
        spec: {group: example.com, names: {kind: ClusterPolicy}, scope: Namespaced}
        ---
        apiVersion: example.com/v1
        kind: ClusterPolicy
        metadata: {name: p, namespace: ops}
        """,
    )
    assert "example.com/v1/ClusterPolicy/ops/p" in _keys(snap)


def test_generate_name_objects_are_not_declarations(tmp_path: Path, redactor: Redactor) -> None:
    snap = _snap(
        tmp_path,
        redactor,
        """\
        apiVersion: batch/v1
        kind: Job
        metadata: {generateName: migrate-, namespace: shop}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg, generateName: ignored-, namespace: shop}
        """,
    )
    assert _keys(snap) == ["v1/ConfigMap/shop/cfg"]  # a name wins over generateName, as in Kubernetes


def test_a_list_inside_a_list_is_expanded(tmp_path: Path, redactor: Redactor) -> None:
    snap = _snap(
        tmp_path,
        redactor,
        """\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: first}
        - apiVersion: v1
          kind: ConfigMapList
          items:
          - metadata: {name: second}
          - metadata: {name: third}
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: fourth}
        """,
    )
    assert _keys(snap) == [f"v1/ConfigMap/default/{n}" for n in ("first", "second", "third", "fourth")]


HOOKS = """\
    apiVersion: v1
    kind: Pod
    metadata:
      name: chart-test
      annotations: {helm.sh/hook: test}
    ---
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: migrate
      annotations:
        helm.sh/hook: "pre-install,pre-upgrade"
        helm.sh/hook-delete-policy: "before-hook-creation, hook-succeeded"
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: kept
      annotations: {helm.sh/hook: pre-install}
    """


def test_helm_hooks_that_do_not_stay_are_not_declared(tmp_path: Path, redactor: Redactor) -> None:
    # a test hook exists only after `helm test`; a hook-succeeded hook is deleted once it ran
    assert _keys(_snap(tmp_path, redactor, HOOKS)) == ["v1/ConfigMap/default/kept"]


def test_helm_hooks_in_a_live_export_are_kept(tmp_path: Path, redactor: Redactor) -> None:
    assert len(_snap(tmp_path, redactor, HOOKS, role="live").resources) == 3


def test_comment_only_documents_and_null_labels(tmp_path: Path, redactor: Redactor) -> None:
    snap = _snap(
        tmp_path,
        redactor,
        """\
        # rendered by helm
        ---
        # Source: chart/templates/empty.yaml
        ---
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c, labels: null}
        """,
    )
    (r,) = snap.resources
    assert r.key == "v1/ConfigMap/default/c"
    assert r.tags == {}
