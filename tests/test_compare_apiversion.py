"""Environment vs environment: one Kubernetes object under two API versions of its type is one ``differs``.

Staging's manifests moved a PodDisruptionBudget to ``policy/v1`` (an Ingress to ``networking.k8s.io/v1``,
an HPA to ``autoscaling/v2``) while production's still declare the old version: the last pairing pass
pairs them (same group, kind, namespace and name after placeholders), and the version is a change at
``apiVersion``, never two ``only_in``.
"""

from __future__ import annotations

import datetime as dt
import random
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from parity.compare import ComparisonMemo, Inventory, Rules, apply_ignores, mirror_report, pair_resources
from parity.compare.pairing import kube_group_kind
from parity.config import Expected, Ignore, KubernetesManifestsSource
from parity.model import Resource, Snapshot, fingerprint
from parity.normalize import Placeholders, canonicalize
from parity.redact import Redactor
from parity.registry import CollectContext
from parity.sources.kubernetes.manifests import collect

WHEN = dt.datetime(2026, 1, 1)
TOKENS = {"staging": ("staging", "stg"), "production": ("prod", "production")}
RULES = Rules(tokens=TOKENS, promotion=("staging", "production"))
ENVS = ("staging", "production")
PH_S = Placeholders(["staging", "stg"], [])
PH_P = Placeholders(["prod", "production"], [])

PDB_V1 = "policy/v1/PodDisruptionBudget"
PDB_BETA = "policy/v1beta1/PodDisruptionBudget"


def k8s(type_: str, ns: str, name: str, **attrs: Any) -> Resource:
    """A Kubernetes object as the manifests source makes it (type, key, id, name)."""
    return Resource(
        type=type_, id=f"{ns}/{name}", key=f"{type_}/{ns}/{name}", attributes=attrs, name=name, origin="test"
    )


def inv(env: str, *resources: Resource, source: str = "src") -> Inventory:
    snap = Snapshot(env, source, "kubernetes-manifests", "declared", WHEN, tuple(resources))
    return Inventory(env, (canonicalize(snap),))


def manifests(tmp_path: Path, env: str, text: str, redactor: Redactor) -> Inventory:
    folder = tmp_path / env
    folder.mkdir()
    (folder / "all.yaml").write_text(textwrap.dedent(text))
    spec = KubernetesManifestsSource.model_validate({"kind": "kubernetes-manifests", "path": str(folder)})
    ctx = CollectContext(
        environment=env, source_name="k8s", base_dir=tmp_path, redactor=redactor, role="declared", tokens=TOKENS
    )
    return Inventory(env, tuple(canonicalize(s) for s in collect(spec, ctx)))


STAGING = """\
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web, namespace: shop-staging}
    spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
    ---
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: web, namespace: shop-staging}
    spec: {ingressClassName: nginx}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: web-staging, namespace: shop}
    spec: {minReplicas: 2, maxReplicas: 4}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: web, namespace: shop-staging}
    data: {LOG_LEVEL: debug}
    """

PRODUCTION = """\
    apiVersion: policy/v1beta1
    kind: PodDisruptionBudget
    metadata: {name: web, namespace: shop-prod}
    spec: {minAvailable: 2, selector: {matchLabels: {app: web}}}
    ---
    apiVersion: networking.k8s.io/v1beta1
    kind: Ingress
    metadata: {name: web, namespace: shop-prod}
    spec: {ingressClassName: nginx}
    ---
    apiVersion: autoscaling/v2beta2
    kind: HorizontalPodAutoscaler
    metadata: {name: web-prod, namespace: shop}
    spec: {minReplicas: 2, maxReplicas: 4}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: web, namespace: shop-prod}
    data: {LOG_LEVEL: debug}
    """


def test_manifests_moved_to_a_new_api_version_are_one_difference(tmp_path: Path, redactor: Redactor) -> None:
    s = manifests(tmp_path, "staging", STAGING, redactor)
    p = manifests(tmp_path, "production", PRODUCTION, redactor)
    res = mirror_report(s, p, RULES)
    assert [f.kind for f in res.findings] == ["differs"] * 3  # no only_in; the ConfigMaps are equal
    assert res.pairs == 4
    got = {f.type: [(c.path, c.left, c.right) for c in f.changes] for f in res.findings}
    assert got == {
        PDB_V1: [("apiVersion", "policy/v1", "policy/v1beta1"), ("spec.minAvailable", 1, 2)],
        "networking.k8s.io/v1/Ingress": [("apiVersion", "networking.k8s.io/v1", "networking.k8s.io/v1beta1")],
        "autoscaling/v2/HorizontalPodAutoscaler": [("apiVersion", "autoscaling/v2", "autoscaling/v2beta2")],
    }
    pdb = next(f for f in res.findings if f.type == PDB_V1)
    assert pdb.resources == {"staging": "shop-staging/web", "production": "shop-prod/web"}
    assert pdb.key == f"{PDB_V1}/shop-staging/web" and pdb.severity == "medium"
    assert PDB_BETA in pdb.message and pdb.location is not None and pdb.location.file.endswith("all.yaml")
    # The id is the left side's, as for every differs: the same in every scan, whatever the input order.
    assert pdb.id == fingerprint("differs", PDB_V1, f"{PDB_V1}/shop-staging/web", ENVS)
    ids = [f.id for f in res.findings]
    for seed in range(5):
        rs, rp = list(s.resources()), list(p.resources())
        random.Random(seed).shuffle(rs)
        random.Random(seed + 100).shuffle(rp)
        again = mirror_report(inv("staging", *rs), inv("production", *rp), RULES)
        assert [f.id for f in again.findings] == ids
        assert again.findings == res.findings
    # Kept between comparisons, a memo gives the same findings.
    memo = ComparisonMemo()
    assert mirror_report(s, p, RULES, memo=memo).findings == res.findings
    assert mirror_report(s, p, RULES, memo=memo).findings == res.findings


def test_two_candidates_on_a_side_pair_with_nothing() -> None:
    # Two staging PDBs whose names both read "web-{env}" (one per token): which is the mirror is not known.
    s = inv("staging", k8s(PDB_V1, "shop", "web-stg"), k8s(PDB_V1, "shop", "web-staging"))
    p = inv("production", k8s(PDB_BETA, "shop", "web-prod"))
    res = mirror_report(s, p, RULES)
    assert {(f.kind, f.key) for f in res.findings} == {
        ("only_in", f"{PDB_BETA}/shop/web-prod"),
        ("only_in", f"{PDB_V1}/shop/web-stg"),
        ("only_in", f"{PDB_V1}/shop/web-staging"),
    }
    assert res.pairs == 0
    # One object under two versions on one side (two sources): never two of one side with one of the other.
    hpa = "autoscaling/{}/HorizontalPodAutoscaler"
    s2 = Inventory(
        "staging",
        (
            *inv("staging", k8s(hpa.format("v2"), "shop", "web"), source="a").snapshots,
            *inv("staging", k8s(hpa.format("v2beta2"), "shop", "web"), source="b").snapshots,
        ),
    )
    p2 = inv("production", k8s(hpa.format("v1"), "shop", "web"))
    res2 = mirror_report(s2, p2, RULES)
    assert [f.kind for f in res2.findings] == ["only_in"] * 3 and res2.pairs == 0
    # ...while the one candidate per side pairs.
    res3 = mirror_report(inv("staging", k8s(hpa.format("v2"), "shop", "web")), p2, RULES)
    assert [(f.kind, [c.path for c in f.changes]) for f in res3.findings] == [("differs", ["apiVersion"])]


def test_other_types_never_pair_across_versions() -> None:
    # Pipeline jobs (``pipeline/<provider>/job``) and config files look like ``group/version/kind`` but are
    # no Kubernetes types: a GitHub job is not a GitLab job. The Kubernetes object beside them does pair.
    s = inv(
        "staging",
        Resource("pipeline/github/job", "deploy", "deploy.yml#deploy", name="deploy"),
        Resource("config/yaml", "values.yaml", "values-{env}.yaml"),
        Resource("aws_s3_bucket", "shop-staging-logs", "aws_s3_bucket.logs", name="shop-staging-logs"),
        k8s(PDB_V1, "shop", "web"),
    )
    p = inv(
        "production",
        Resource("pipeline/gitlab/job", "deploy", "deploy.yml#deploy", name="deploy"),
        Resource("config/json", "values.yaml", "values-{env}.yaml"),
        Resource("aws_s3_bucket_v2", "shop-prod-logs", "aws_s3_bucket.logs", name="shop-prod-logs"),
        k8s(PDB_BETA, "shop", "web"),
    )
    res = mirror_report(s, p, RULES)
    assert sorted((f.kind, f.type) for f in res.findings) == [
        ("differs", PDB_V1),
        ("only_in", "aws_s3_bucket"),
        ("only_in", "aws_s3_bucket_v2"),
        ("only_in", "config/json"),
        ("only_in", "config/yaml"),
        ("only_in", "pipeline/github/job"),
        ("only_in", "pipeline/gitlab/job"),
    ]
    assert kube_group_kind("policy/v1beta1/PodDisruptionBudget") == "policy/PodDisruptionBudget"
    assert kube_group_kind("v1/ConfigMap") == "/ConfigMap"  # the core group has none
    for other in ("aws_s3_bucket", "config/yaml", "pipeline/github/job", "config/env", "a/b/c/d"):
        assert kube_group_kind(other) is None
    # A group or kind that differs is another type, not another version (extensions -> networking.k8s.io).
    p2 = inv(
        "production", k8s("extensions/v1beta1/Ingress", "shop", "web"), k8s("policy/v1beta1/Eviction", "shop", "web")
    )
    s2 = inv("staging", k8s("networking.k8s.io/v1/Ingress", "shop", "web"), k8s(PDB_V1, "shop", "web"))
    assert [f.kind for f in mirror_report(s2, p2, RULES).findings] == ["only_in"] * 4
    # Pairing without the API-version pass (as permission sets are paired) keeps types apart.
    p_plain = pair_resources([k8s(PDB_V1, "shop", "web")], [k8s(PDB_BETA, "shop", "web")], PH_S, PH_P)
    assert p_plain.pairs == () and p_plain.across_versions == ()
    p_api = pair_resources([k8s(PDB_V1, "shop", "web")], [k8s(PDB_BETA, "shop", "web")], PH_S, PH_P, api_versions=True)
    assert len(p_api.pairs) == 1 and p_api.across_versions == p_api.pairs


def test_expected_and_ignore_rules_match_the_version_difference() -> None:
    s = inv("staging", k8s(PDB_V1, "shop-staging", "web", spec={"minAvailable": 1}))
    p = inv("production", k8s(PDB_BETA, "shop-prod", "web", spec={"minAvailable": 1}))
    (f,) = mirror_report(s, p, RULES).findings
    assert [c.path for c in f.changes] == ["apiVersion"]

    rule = Expected(reason="PDBs move to policy/v1 in staging first", type=PDB_BETA, path="apiVersion")
    rules = Rules(tokens=TOKENS, expected=(rule,))
    res = mirror_report(s, p, rules)  # the rule names production's type: either side's type matches
    assert res.findings == ()
    assert [(e.change.path, e.change.left, e.change.right, e.reason) for e in res.expected] == [
        ("apiVersion", "policy/v1", "policy/v1beta1", rule.reason)
    ]
    assert res.expected_used == frozenset({0})
    # With an attribute difference too, the finding keeps that one and lists the version as expected.
    p2 = inv("production", k8s(PDB_BETA, "shop-prod", "web", spec={"minAvailable": 2}))
    glob = Expected(reason="moving", type="policy/*/PodDisruptionBudget", key="*/web", path="apiVersion")
    (g,) = mirror_report(s, p2, Rules(tokens=TOKENS, expected=(glob,))).findings
    assert [c.path for c in g.changes] == ["spec.minAvailable"]
    assert [(x.rule, x.change.path if x.change else None) for x in g.suppressed] == [("expected", "apiVersion")]
    # An ignore rule with the path takes the version change off the finding (a finding left empty is ignored).
    ign = Ignore(owner="ana", reason="migrating", expires=dt.date(2099, 1, 1), type=PDB_V1, path="apiVersion")
    out = apply_ignores([f], Rules(tokens=TOKENS, ignore=(ign,), today=dt.date(2026, 1, 1)))
    assert out.kept == () and len(out.ignored) == 1


def test_ignore_rules_match_either_sides_type_and_key_of_the_version_pair() -> None:
    s = inv("staging", k8s(PDB_V1, "shop-staging", "web", spec={"minAvailable": 1}))
    p = inv("production", k8s(PDB_BETA, "shop-prod", "web", spec={"minAvailable": 2}))
    (f,) = mirror_report(s, p, RULES).findings
    assert f.type == PDB_V1 and [c.path for c in f.changes] == ["apiVersion", "spec.minAvailable"]

    def ignore(**kw: Any) -> Any:
        rule = Ignore(owner="ana", reason="migrating", expires=dt.date(2099, 1, 1), **kw)
        return apply_ignores([f], Rules(tokens=TOKENS, ignore=(rule,), today=dt.date(2026, 1, 1)))

    # production's type, as an expected rule may name it: the whole finding, or just the version change
    assert len(ignore(type=PDB_BETA).ignored) == 1
    (kept,) = ignore(type=PDB_BETA, path="apiVersion").kept
    assert [c.path for c in kept.changes] == ["spec.minAvailable"]
    assert len(ignore(type="*", key=f"{PDB_BETA}/*/web").ignored) == 1
    # another type, or a key of another kind, still matches nothing
    assert ignore(type="policy/v1beta1/PodSecurityPolicy").kept == (f,)
    assert ignore(key="policy/v1beta1/PodDisruptionBudget/*/api").kept == (f,)
    # once the version change is suppressed by an expected rule, the other version still names the object
    exp = Expected(reason="moving", type=PDB_BETA, path="apiVersion")
    (g,) = mirror_report(s, p, Rules(tokens=TOKENS, expected=(exp,))).findings
    assert [c.path for c in g.changes] == ["spec.minAvailable"]
    rule = Ignore(owner="ana", reason="migrating", expires=dt.date(2099, 1, 1), type=PDB_BETA)
    assert len(apply_ignores([g], Rules(tokens=TOKENS, ignore=(rule,), today=dt.date(2026, 1, 1))).ignored) == 1
    # a differs of another type with a change at a path called apiVersion gains no other identity
    plain = Resource(type="config/yaml", id="a", key="config/yaml/app.yaml", attributes={"apiVersion": "v1"})
    s2 = inv("staging", plain)
    p2 = inv(
        "production", Resource(type="config/yaml", id="a", key="config/yaml/app.yaml", attributes={"apiVersion": "v2"})
    )
    (h,) = mirror_report(s2, p2, RULES).findings
    rule = Ignore(owner="ana", reason="x", expires=dt.date(2099, 1, 1), type="v1/yaml")
    assert apply_ignores([h], Rules(tokens=TOKENS, ignore=(rule,), today=dt.date(2026, 1, 1))).kept == (h,)


def test_a_copy_of_the_object_is_compared_with_the_other_version_too() -> None:
    # The same manifest folder given twice in staging: one object, one finding, each copy compared.
    a = k8s(PDB_V1, "shop", "web", spec={"minAvailable": 1})
    b = k8s(PDB_V1, "shop", "web", spec={"minAvailable": 3})
    s = Inventory("staging", (*inv("staging", a, source="a").snapshots, *inv("staging", b, source="b").snapshots))
    p = inv("production", k8s(PDB_BETA, "shop", "web", spec={"minAvailable": 1}))
    (f,) = mirror_report(s, p, RULES).findings
    assert [(c.path, c.left, c.right) for c in f.changes] == [
        ("apiVersion", "policy/v1", "policy/v1beta1"),
        ("spec.minAvailable", 3, 1),
    ]


def test_each_version_rules_of_the_noise_kb_apply_to_both_sides() -> None:
    # The KB names versions: batch/v1 CronJob defaults are folded, apps/v1 Deployment env lists sorted, the
    # old versions have no rules. Equal manifests across the move read as defaults "absent" on one side only.
    job = {
        "schedule": "0 * * * *",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "terminationGracePeriodSeconds": 30,
                        "containers": [{"name": "c", "image": "x", "imagePullPolicy": "IfNotPresent"}],
                    }
                }
            }
        },
    }
    env = [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]
    dep = {"template": {"spec": {"containers": [{"name": "c", "env": env}]}}}
    dep_sorted = {"template": {"spec": {"containers": [{"name": "c", "env": env[::-1]}]}}}
    for new, old, spec_new, spec_old in (
        ("batch/v1/CronJob", "batch/v1beta1/CronJob", job, job),
        ("apps/v1/Deployment", "apps/v1beta2/Deployment", dep, dep_sorted),
    ):
        for left, right, sl, sr in ((new, old, spec_new, spec_old), (old, new, spec_old, spec_new)):
            s = inv("staging", k8s(left, "shop", "web", spec=sl))
            p = inv("production", k8s(right, "shop", "web", spec=sr))
            res = mirror_report(s, p, RULES)
            assert [[c.path for c in f.changes] for f in res.findings] == [["apiVersion"]], (left, right)
            assert mirror_report(s, p, RULES, memo=ComparisonMemo()).findings == res.findings
    # A real difference under a default-folding version still shows.
    changed = {**job, "jobTemplate": {"spec": {"template": {"spec": {"terminationGracePeriodSeconds": 60}}}}}
    res = mirror_report(
        inv("staging", k8s("batch/v1/CronJob", "shop", "web", spec=job)),
        inv("production", k8s("batch/v1beta1/CronJob", "shop", "web", spec=changed)),
        RULES,
    )
    (f,) = res.findings
    assert ("spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds", None, 60) in [
        (c.path, c.left, c.right) for c in f.changes
    ]


def test_a_cluster_and_manifests_on_each_side_compare_live_with_live_across_versions() -> None:
    # Each side's cluster serves the object under its own version, each side's manifests declare it so: per
    # type, each version is on one side only, and every live copy was compared with every declared one.
    def env(name: str, type_: str) -> Inventory:
        declared = k8s(type_, "shop", "web", spec={"minAvailable": 1})
        live = k8s(type_, "shop", "web", spec={"minAvailable": 1, "unhealthyPodEvictionPolicy": "IfHealthyBudget"})
        return Inventory(
            name,
            (
                canonicalize(Snapshot(name, "manifests", "kubernetes-manifests", "declared", WHEN, (declared,))),
                canonicalize(Snapshot(name, "cluster", "kubernetes", "live", WHEN, (live,))),
            ),
        )

    res = mirror_report(env("staging", PDB_V1), env("production", PDB_BETA), RULES)
    assert [[c.path for c in f.changes] for f in res.findings] == [["apiVersion"]]
    assert res.role == "live" and res.pairs == 1


class _Counting(Placeholders):
    """Placeholders that count the strings they substitute in batches (the pairing passes' cost)."""

    calls = 0

    def sub_strs(self, strings: Sequence[str]) -> list[str]:
        _Counting.calls += len(strings)
        return super().sub_strs(strings)


def test_leftovers_of_one_type_cost_no_api_version_pass() -> None:
    # Thousands of objects of one type unpaired on both sides (another namespace scheme) had the passes of
    # their type already: the API-version pass must not run three more over them.
    left = [k8s("v1/ConfigMap", "a", f"l{i}") for i in range(200)] + [k8s(PDB_V1, "shop", "web")]
    right = [k8s("v1/ConfigMap", "b", f"r{i}") for i in range(200)] + [k8s(PDB_BETA, "shop", "web")]
    ph_l, ph_r = _Counting(["staging"]), _Counting(["prod"])
    plain = pair_resources(left, right, ph_l, ph_r)
    before = _Counting.calls
    _Counting.calls = 0
    got = pair_resources(left, right, ph_l, ph_r, api_versions=True)
    assert len(got.across_versions) == 1 and len(got.only_left) == len(plain.only_left) - 1
    assert _Counting.calls == before  # the pass substituted nothing (the PDBs pair by id)
