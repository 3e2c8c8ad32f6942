"""The kubernetes-manifests source: identity rules, List expansion, owners, redaction, errors, kustomize."""

from __future__ import annotations

import base64
import shutil
import textwrap
from pathlib import Path

import pytest

from parity.config import KubernetesManifestsSource
from parity.errors import InputError
from parity.model import Resource, Snapshot
from parity.redact import Redactor
from parity.registry import CollectContext, source_kinds
from parity.sources.kubernetes.manifests import collect

DATA = Path(__file__).parent / "data" / "kubernetes"
TOKENS = {"staging": ("stg", "staging"), "production": ("prd", "prod", "production")}


def _ctx(base: Path, redactor: Redactor) -> CollectContext:
    return CollectContext(
        environment="production",
        source_name="k8s",
        base_dir=base,
        redactor=redactor,
        role="declared",
        tokens=TOKENS,
    )


def _spec(path: str | list[str], **kw: object) -> KubernetesManifestsSource:
    return KubernetesManifestsSource.model_validate({"kind": "kubernetes-manifests", "path": path, **kw})


def _snap(base: Path, redactor: Redactor, path: str | list[str] = ".", **kw: object) -> Snapshot:
    (snap,) = collect(_spec(path, **kw), _ctx(base, redactor))
    return snap


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text))
    return p


def _by_key(snap: Snapshot) -> dict[str, Resource]:
    return {r.key: r for r in snap.resources}


def test_registered() -> None:
    kinds = source_kinds()
    assert "kubernetes-manifests" in kinds
    assert kinds["kubernetes-manifests"].collect is collect


def test_multi_document_identity_and_lines(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "app.yaml",
        """\
        # leading comment
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
          labels: {app: web, tier: 3}
        spec:
          replicas: 2
        ---
        ---
        # only a comment
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web-settings
        data:
          LOG_LEVEL: info
        """,
    )
    snap = _snap(tmp_path, redactor, "app.yaml")
    assert snap.kind == "kubernetes-manifests"
    assert snap.role == "declared"
    assert snap.environment == "production"
    assert snap.coverage.listed == ("app.yaml",)
    assert snap.coverage.complete
    dep, cm = snap.resources
    assert dep.type == "apps/v1/Deployment"
    assert dep.key == "apps/v1/Deployment/shop/web"
    assert dep.id == "shop/web"
    assert dep.name == "web"
    assert dep.tags == {"app": "web", "tier": "3"}
    assert dep.owner == "none"
    assert dep.origin == "kubernetes-manifests:app.yaml"
    assert dep.location is not None and (dep.location.file, dep.location.line) == ("app.yaml", 2)
    assert dep.attributes == {
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "tier": 3}},
        "spec": {"replicas": 2},
    }
    assert cm.key == "v1/ConfigMap/default/web-settings"
    assert cm.id == "default/web-settings"
    assert cm.location is not None and cm.location.line == 14
    assert cm.attributes["data"] == {"LOG_LEVEL": "info"}


def test_namespace_option_applies_only_where_none_is_named(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "a.yaml",
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b, namespace: other}
        """,
    )
    keys = set(_by_key(_snap(tmp_path, redactor, "a.yaml", namespace="team")))
    assert keys == {"v1/ConfigMap/team/a", "v1/ConfigMap/other/b"}


def test_cluster_scoped_kinds_have_no_namespace(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "cluster.yaml",
        """\
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: reader, namespace: ignored-by-the-api}
        rules: []
        ---
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: fast}
        provisioner: ebs.csi.aws.com
        """,
    )
    rs = _by_key(_snap(tmp_path, redactor, "cluster.yaml", namespace="team"))
    assert set(rs) == {
        "v1/Namespace/_/shop",
        "rbac.authorization.k8s.io/v1/ClusterRole/_/reader",
        "storage.k8s.io/v1/StorageClass/_/fast",
    }
    assert rs["v1/Namespace/_/shop"].id == "shop"
    assert rs["rbac.authorization.k8s.io/v1/ClusterRole/_/reader"].id == "reader"


def test_list_kinds_are_expanded(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "export.yaml",
        """\
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop, uid: 5d1c, resourceVersion: "812"}
            status: {loadBalancer: {}}
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: api, namespace: shop}
        ---
        apiVersion: v1
        kind: ConfigMapList
        items:
          - metadata: {name: one, namespace: shop}
            data: {a: "1"}
        """,
    )
    rs = _by_key(_snap(tmp_path, redactor, "export.yaml"))
    assert set(rs) == {"v1/Service/shop/api", "apps/v1/Deployment/shop/api", "v1/ConfigMap/shop/one"}
    # live-only fields are kept: dropping them is the normaliser's job
    svc = rs["v1/Service/shop/api"].attributes
    assert svc["status"] == {"loadBalancer": {}}
    assert svc["metadata"]["uid"] == "5d1c"
    assert rs["v1/ConfigMap/shop/one"].attributes == {
        "metadata": {"name": "one", "namespace": "shop"},
        "data": {"a": "1"},
    }


def test_json_manifest(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "m/cm.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {}}')
    (r,) = _snap(tmp_path, redactor, "m").resources
    assert r.key == "v1/ConfigMap/default/j"
    assert r.location is not None and r.location.file == "m/cm.json"


def test_helm_rendered_output(redactor: Redactor) -> None:
    snap = _snap(DATA, redactor, "helm")
    rs = _by_key(snap)
    assert set(rs) == {
        "v1/ServiceAccount/default/payments",
        "v1/Secret/default/payments-api",
        "apps/v1/Deployment/default/payments",
    }
    # by label (managed-by: Helm) and by annotation (meta.helm.sh/release-name)
    assert {r.owner for r in rs.values()} == {"helm"}
    assert rs["v1/ServiceAccount/default/payments"].location is not None
    assert rs["v1/ServiceAccount/default/payments"].location.line == 3
    text = repr(snap)
    for raw in ("sk_live_Helm9f00d", "tok_Helm_8812"):
        assert raw not in text
    env = rs["apps/v1/Deployment/default/payments"].attributes["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "STRIPE_TOKEN", "value": redactor.redact("tok_Helm_8812")}
    assert env[1] == {"name": "REGION", "value": "eu-west-1"}


def test_owner_none_when_helm_label_differs(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "a.yaml",
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a, labels: {app.kubernetes.io/managed-by: kustomize}}
        """,
    )
    assert _snap(tmp_path, redactor, "a.yaml").resources[0].owner == "none"


def test_owner_kubernetes_for_controller_made_objects(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "rs.yaml",
        """\
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: web-5d9c
          ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]
        """,
    )
    assert _snap(tmp_path, redactor, "rs.yaml").resources[0].owner == "kubernetes"


SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","data":{"password":"aHVudGVyMi1yYXc="},"kind":"Secret","metadata":{"name":"db"}}
type: Opaque
data:
  password: aHVudGVyMi1yYXc=
  username: YWRtaW4tcmF3
stringData:
  extra: plain-Extra-9931
"""


def test_secret_values_are_redacted(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "secret.yaml", SECRET)
    snap = _snap(tmp_path, redactor, "secret.yaml")
    (r,) = snap.resources
    text = repr(snap)
    for raw in ("aHVudGVyMi1yYXc=", "YWRtaW4tcmF3", "plain-Extra-9931"):
        assert raw not in text
    assert r.attributes["data"] == {  # stringData folded into data, base64-encoded, as the API server does
        "password": redactor.redact("aHVudGVyMi1yYXc="),
        "username": redactor.redact("YWRtaW4tcmF3"),
        "extra": redactor.redact(base64.b64encode(b"plain-Extra-9931").decode()),
    }
    assert "stringData" not in r.attributes
    assert r.attributes["type"] == "Opaque"
    ann = r.attributes["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert ann.startswith("<redacted:")


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ("stringData: {password: hunter2}", "data: {password: aHVudGVyMg==}", True),
        ("stringData: {password: hunter2}", "data: {password: aHVudGVyMw==}", False),
        ("{data: {password: aHVudGVyMw==}, stringData: {password: hunter2}}", "data: {password: aHVudGVyMg==}", True),
    ],
)
def test_string_data_compares_with_the_data_the_server_stores(
    tmp_path: Path, redactor: Redactor, left: str, right: str, equal: bool
) -> None:
    head = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
    values = []
    for side, body in (("l", left), ("r", right)):
        text = head + (body[1:-1].replace(", ", "\n") if body.startswith("{") else body) + "\n"
        _write(tmp_path, f"{side}.yaml", text)
        (res,) = _snap(tmp_path, redactor, f"{side}.yaml").resources
        assert "stringData" not in res.attributes and "hunter2" not in repr(res)
        values.append(res.attributes["data"])
    assert (values[0] == values[1]) is equal


def test_env_values_and_secret_keys_redacted_in_any_object(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "deploy.yaml",
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          annotations:
            kubectl.kubernetes.io/last-applied-configuration: >-
              {"kind":"Deployment","spec":{"template":{"spec":{"containers":[{"env":[{"name":"API_KEY","value":"ak-LastApplied-55"}]}]}}}}
        spec:
          template:
            spec:
              volumes:
                - name: creds
                  secret: {secretName: api-creds}
              containers:
                - name: api
                  env:
                    - name: API_KEY
                      value: ak-Env-Value-42
                    - name: PORT
                      value: "8080"
                    - name: DB_PASSWORD
                      valueFrom: {secretKeyRef: {name: db, key: password}}
                  args: ["--token", "x"]
                  config:
                    clientSecret: cs-Nested-77
        """,
    )
    snap = _snap(tmp_path, redactor, "deploy.yaml")
    text = repr(snap)
    for raw in ("ak-Env-Value-42", "ak-LastApplied-55", "cs-Nested-77"):
        assert raw not in text
    spec = snap.resources[0].attributes["spec"]["template"]["spec"]
    env = spec["containers"][0]["env"]
    assert env[1] == {"name": "PORT", "value": "8080"}
    assert env[2] == {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
    assert spec["volumes"][0]["secret"] == {"secretName": "api-creds"}
    # the last-applied annotation stays comparable JSON, with the env value redacted inside it
    ann = snap.resources[0].attributes["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert redactor.redact("ak-LastApplied-55") in ann and '"name":"API_KEY"' in ann


def test_configmap_embedded_file_has_secret_lines_redacted(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "cm.yaml",
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: app}
        data:
          app.properties: |
            db.url=jdbc:postgresql://db:5432/app
            db.password=cm-Pw-Line-31
        """,
    )
    (r,) = _snap(tmp_path, redactor, "cm.yaml").resources
    assert r.attributes["data"]["app.properties"] == (
        f"db.url=jdbc:postgresql://db:5432/app\ndb.password={redactor.redact('cm-Pw-Line-31')}\n"
    )


@pytest.mark.parametrize(
    ("doc", "missing"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: a}\n", "metadata.name"),
        ("kind: ConfigMap\nmetadata: {name: a}\n", "apiVersion"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "kind"),
        ("replicaCount: 2\nimage: {tag: x}\n", "apiVersion"),
    ],
)
def test_missing_identity_fields_name_file_and_line(tmp_path: Path, redactor: Redactor, doc: str, missing: str) -> None:
    good = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"
    _write(tmp_path, "bad.yaml", good + "---\n" + doc)
    with pytest.raises(InputError) as ei:
        _snap(tmp_path, redactor, "bad.yaml")
    assert ei.value.file == "bad.yaml"
    assert ei.value.line == 5
    assert missing in ei.value.message


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 12345}\n", "metadata.name is 12345, not a string"),
        ("apiVersion: v1\nkind: [a]\nmetadata: {name: a}\n", 'kind is ["a"], not a string'),
    ],
)
def test_identity_fields_of_another_type_say_so(tmp_path: Path, redactor: Redactor, doc: str, message: str) -> None:
    _write(tmp_path, "bad.yaml", doc)
    with pytest.raises(InputError) as ei:
        _snap(tmp_path, redactor, "bad.yaml")
    assert ei.value.line == 1
    assert ei.value.message == f"not a Kubernetes object: {message}"


def test_non_mapping_document_is_an_error(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "list.yaml", "- a\n- b\n")
    with pytest.raises(InputError, match="not a mapping") as ei:
        _snap(tmp_path, redactor, "list.yaml")
    assert ei.value.line == 1


def test_malformed_yaml_names_file_and_line(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "broken.yaml",
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: x
        data:
          a: [1, 2
          b: 3
        """,
    )
    with pytest.raises(InputError) as ei:
        _snap(tmp_path, redactor, "broken.yaml")
    assert ei.value.file == "broken.yaml"
    assert ei.value.line == 7
    assert "invalid YAML" in ei.value.message
    assert str(ei.value).startswith("broken.yaml:7:")


def test_duplicate_object_names_both_places(tmp_path: Path, redactor: Redactor) -> None:
    obj = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: shop}\n"
    _write(tmp_path, "m/a.yaml", obj)
    _write(tmp_path, "m/b.yaml", "# header\n" + obj)
    with pytest.raises(InputError) as ei:
        _snap(tmp_path, redactor, "m")
    assert ei.value.file == "m/b.yaml" and ei.value.line == 2
    assert "v1/ConfigMap/shop/dup" in ei.value.message and "m/a.yaml:1" in ei.value.message


def test_same_name_in_different_namespaces_is_not_a_duplicate(tmp_path: Path, redactor: Redactor) -> None:
    _write(
        tmp_path,
        "a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n",
    )
    assert len(_snap(tmp_path, redactor, "a.yaml").resources) == 2


def test_realistic_kustomize_rendered_sample(redactor: Redactor) -> None:
    snap = _snap(DATA, redactor, "rendered-production.yaml")
    rs = _by_key(snap)
    assert set(rs) == {
        "v1/ConfigMap/shop-prod/prod-checkout-settings-2ggt2b8t48",
        "v1/Secret/shop-prod/prod-checkout-db-g9gbh7mgmh",
        "v1/Service/shop-prod/prod-checkout",
        "apps/v1/Deployment/shop-prod/prod-checkout",
    }
    dep = rs["apps/v1/Deployment/shop-prod/prod-checkout"]
    assert dep.attributes["spec"]["replicas"] == 4
    assert dep.tags == {"app.kubernetes.io/name": "checkout"}
    text = repr(snap)
    assert "b3ZlcmxheS1TZWNyM3QtNzc=" not in text
    assert "base-pass-Zq81" not in text


def test_kustomization_folder_unrendered_without_kubectl_records_gap(
    redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    snap = _snap(DATA, redactor, "kustomize/base")
    assert not snap.coverage.complete
    (gap,) = snap.coverage.gaps
    assert (gap.scope, gap.kind, gap.type) == ("kustomize/base", "unsupported", None)
    assert gap.reason == "kustomization not rendered: kubectl not installed"
    # raw files read, the kustomization itself skipped
    assert set(_by_key(snap)) == {"apps/v1/Deployment/default/checkout", "v1/Service/default/checkout"}
    assert "kustomize/base/kustomization.yaml" not in snap.coverage.listed


def test_kustomize_false_reads_raw_files_without_gap(redactor: Redactor) -> None:
    snap = _snap(DATA, redactor, "kustomize/base", kustomize=False)
    assert snap.coverage.complete
    assert len(snap.resources) == 2


def test_kustomize_true_without_kubectl_is_an_error(
    redactor: Redactor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubectl reachable
    with pytest.raises(InputError, match="kubectl") as ei:
        _snap(DATA, redactor, "kustomize/overlays/production", kustomize=True)
    assert ei.value.file == "kustomize/overlays/production"


needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


@needs_kubectl
def test_kustomization_rendered_with_kubectl(redactor: Redactor) -> None:
    snap = _snap(DATA, redactor, "kustomize/overlays/production")
    assert snap.coverage.complete
    assert snap.coverage.listed == ("kustomize/overlays/production",)
    rendered = _snap(DATA, redactor, "rendered-production.yaml")
    assert set(_by_key(snap)) == set(_by_key(rendered))
    for key, r in _by_key(snap).items():
        assert r.attributes == _by_key(rendered)[key].attributes
        assert r.location is not None
        assert (r.location.file, r.location.line) == ("kustomize/overlays/production/kustomization.yaml", None)
    assert "overlay-Secr3t-77" not in repr(snap) and "b3ZlcmxheS1TZWNyM3QtNzc=" not in repr(snap)


@needs_kubectl
def test_kubectl_failure_names_folder_and_first_stderr_line(tmp_path: Path, redactor: Redactor) -> None:
    _write(tmp_path, "k/kustomization.yaml", "resources:\n  - missing.yaml\n")
    with pytest.raises(InputError) as ei:
        _snap(tmp_path, redactor, "k")
    assert ei.value.file == "k"
    assert "kubectl kustomize failed" in ei.value.message
    assert "missing.yaml" in ei.value.message
    assert "\n" not in ei.value.message
