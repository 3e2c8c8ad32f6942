"""Kubernetes RBAC compared across environments: a subject that may do more in one cluster's manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.cli import main

ROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: deployer, namespace: shop-{env}}}
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [{verbs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: deployer, namespace: shop-{env}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}}
subjects:
  - {{kind: ServiceAccount, name: ci, namespace: shop-{env}}}
"""

ADMIN = """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: ServiceAccount, name: ci, namespace: shop-production}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-admin}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
"""


def write(tmp: Path, admin: bool) -> Path:
    for env, verbs in (("staging", "get, list, patch"), ("production", "get, list")):
        d = tmp / env
        d.mkdir()
        (d / "rbac.yaml").write_text(
            ROLE.format(env=env, verbs=verbs) + (ADMIN if admin and env == "production" else "")
        )
    cfg = tmp / "parity.yaml"
    cfg.write_text(
        "environments:\n"
        "  staging: {sources: [{kind: kubernetes-manifests, path: staging, kustomize: false}]}\n"
        "  production: {sources: [{kind: kubernetes-manifests, path: production, kustomize: false}]}\n"
        f"promotion: [staging, production]\nstore: sqlite:///{tmp / 'p.db'}\n"
    )
    return cfg


def gaps(cfg: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code = main(["perms", "staging", "production", "-c", str(cfg), "-f", "json", "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert code == (2 if out["findings"] else 0)
    return list(out["findings"])


def test_a_verb_only_in_staging(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (f,) = gaps(write(tmp_path, admin=False), capsys)
    assert f["kind"] == "permission_gap" and f["key"] == "ServiceAccount/shop-{env}/ci"
    assert f["severity"] == "medium"  # wider in the earlier stage, no escalation verb
    (change,) = f["changes"]
    assert change["right"] is None and change["left"] == [
        "apps/deployments:patch on shop-{env} <- Role/deployer [rules[0]] via RoleBinding/shop-staging/deployer"
    ]


def test_cluster_admin_only_in_production_is_critical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = {f["detail"]: f for f in gaps(write(tmp_path, admin=True), capsys)}
    prod = found["wider-in:production"]
    assert prod["severity"] == "critical" and "*/*:*" in prod["changes"][0]["right"][0]
    # production's cluster-wide * covers staging's namespaced patch: nothing wider in staging
    assert "wider-in:staging" not in found
