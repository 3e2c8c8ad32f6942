"""Code vs live: changed on declared paths only, missing gated by coverage, unmanaged, coverage figure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from parity.compare import Inventory, Rules, compare_code_live
from parity.model import Coverage, CoverageGap, Resource, Snapshot
from parity.normalize import canonicalize

WHEN = dt.datetime(2026, 1, 1)
RULES = Rules(tokens={"production": ("prod",)})
DEP = "apps/v1/Deployment"


def r(type_: str, id_: str, key: str | None = None, owner: str = "none", **attrs: Any) -> Resource:
    return Resource(type=type_, id=id_, key=key or f"{type_}/{id_}", attributes=attrs, owner=owner)  # type: ignore[arg-type]


def env(declared: list[Resource], live: list[Resource] | None, coverage: Coverage | None = None) -> Inventory:
    snaps = [canonicalize(Snapshot("production", "code", "kubernetes-manifests", "declared", WHEN, tuple(declared)))]
    if live is not None:
        snaps.append(
            canonicalize(Snapshot("production", "k8s", "kubernetes", "live", WHEN, tuple(live), coverage or Coverage()))
        )
    return Inventory("production", tuple(snaps))


def container(**kw: Any) -> dict[str, Any]:
    return {"template": {"spec": {"containers": [{"name": "web", **kw}]}}}


def test_server_filled_fields_are_not_changes() -> None:
    declared = r(DEP, "shop/web", spec={"replicas": 2, **container(image="shop:1")})
    live = r(
        DEP,
        "shop/web",
        metadata={"uid": "x", "labels": {"added-by": "server"}},
        spec={"replicas": 2, "minReadySeconds": 5, **container(image="shop:1", imagePullPolicy="Always")},
    )
    res = compare_code_live(env([declared], [live]), RULES)
    assert res.findings == ()
    assert (res.managed, res.live, res.coverage) == (1, 1, 1.0)


def test_declared_paths_that_differ_are_changed() -> None:
    declared = r(DEP, "shop/web", spec={"replicas": 2, **container(image="shop:1")})
    live = r(DEP, "shop/web", spec={"replicas": 5, **container(image="shop:1-hotfix")})
    (f,) = compare_code_live(env([declared], [live]), RULES).findings
    assert f.kind == "changed" and f.severity == "medium"
    assert [(c.path, c.left, c.right) for c in f.changes] == [
        ("spec.replicas", 2, 5),
        ("spec.template.spec.containers[web].image", "shop:1", "shop:1-hotfix"),
    ]


def test_extra_live_list_elements_are_changes_and_security_types_are_high() -> None:
    declared = r("aws_security_group", "sg-1", ingress=[{"from_port": 443, "cidr_blocks": ["10.0.0.0/8"]}])
    live = r(
        "aws_security_group",
        "sg-1",
        ingress=[{"from_port": 443, "cidr_blocks": ["10.0.0.0/8"]}, {"from_port": 22, "cidr_blocks": ["0.0.0.0/0"]}],
    )
    (f,) = compare_code_live(env([declared], [live]), RULES).findings
    assert f.severity == "high" and len(f.changes) == 1 and f.changes[0].left is None


def test_pairs_by_id_then_key() -> None:
    declared = r("aws_s3_bucket", "logs", key="aws_s3_bucket.logs", versioning=True)
    live = r("aws_s3_bucket", "logs", key="live:logs", versioning=True)
    other_d = r("v1/ConfigMap", "cm-declared-id", key="v1/ConfigMap/shop/app", data={"a": "1"})
    other_l = r("v1/ConfigMap", "shop/app", key="v1/ConfigMap/shop/app", data={"a": "1"})
    res = compare_code_live(env([declared, other_d], [live, other_l]), RULES)
    assert res.findings == () and res.managed == 2


def test_missing_only_when_live_covers_the_type() -> None:
    listed = Coverage(listed=("aws_s3_bucket",))
    res = compare_code_live(env([r("aws_s3_bucket", "gone")], [], listed), RULES)
    (f,) = res.findings
    assert f.kind == "missing" and f.severity == "high"
    denied = Coverage(
        listed=("aws_s3_bucket",), gaps=(CoverageGap("us-east-1", "AccessDenied", "aws_s3_bucket", "denied"),)
    )
    res2 = compare_code_live(env([r("aws_s3_bucket", "gone")], [], denied), RULES)
    assert res2.findings == () and res2.unchecked_types == ("aws_s3_bucket",)
    # a type no live source lists (declared Kubernetes objects, live source is AWS only)
    res3 = compare_code_live(env([r(DEP, "shop/web")], [r("aws_s3_bucket", "b")], listed), RULES)
    assert [f.kind for f in res3.findings] == ["unmanaged"] and res3.unchecked_types == (DEP,)


def test_unmanaged_skips_aws_managed_and_controllers_and_counts_coverage() -> None:
    live = [
        r("aws_iam_role", "console-made"),
        r("aws_iam_role", "AWSServiceRoleForSupport", owner="aws-managed"),
        r("apps/v1/ReplicaSet", "shop/web-abc", owner="kubernetes"),
        r("aws_s3_bucket", "cfn-bucket", owner="cloudformation"),
        r("aws_s3_bucket", "declared"),
    ]
    res = compare_code_live(env([r("aws_s3_bucket", "declared")], live), RULES)
    assert [(f.kind, f.resources) for f in res.findings] == [("unmanaged", {"production": "console-made"})]
    # live counts 3 (console-made, cfn-bucket, declared); managed: declared + cfn-bucket
    assert (res.managed, res.live) == (2, 3)
    assert res.coverage is not None and abs(res.coverage - 2 / 3) < 1e-9


def test_no_live_source_means_no_coverage_figure_and_no_missing() -> None:
    res = compare_code_live(env([r("aws_s3_bucket", "b")], None), RULES)
    assert res.findings == () and res.coverage is None and res.live == 0
