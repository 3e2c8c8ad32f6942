"""Environment vs environment: pairing passes, only_in, differs, expectations, coverage, severity."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from parity.compare import Inventory, Rules, compare_mirrors, mirror_report, pair_resources
from parity.compare.pairing import match_unique_keys
from parity.config import Expected
from parity.model import Coverage, CoverageGap, Resource, Snapshot
from parity.normalize import Placeholders, canonicalize

WHEN = dt.datetime(2026, 1, 1)
RULES = Rules(
    tokens={"staging": ("staging", "stg"), "production": ("prod", "production")},
    promotion=("staging", "production"),
    accounts={"staging": ("111111111111",), "production": ("222222222222",)},
)


def r(type_: str, key: str, name: str | None = None, tags: dict[str, str] | None = None, **attrs: Any) -> Resource:
    return Resource(type=type_, id=name or key, key=key, attributes=attrs, tags=tags or {}, name=name)


def inv(env: str, *resources: Resource, role: str = "declared", coverage: Coverage | None = None) -> Inventory:
    snap = Snapshot(env, "src", "terraform-state", role, WHEN, tuple(resources), coverage or Coverage())  # type: ignore[arg-type]
    return Inventory(env, (canonicalize(snap),))


def by_kind(findings: list[Any], kind: str) -> list[Any]:
    return [f for f in findings if f.kind == kind]


# ---------------------------------------------------------------------------------------- pairing
PH_S = Placeholders(["staging", "stg"], ["111111111111"])
PH_P = Placeholders(["prod", "production"], ["222222222222"])


def test_pairing_passes_key_then_tag_then_name_then_key_placeholders() -> None:
    left = [
        r("aws_s3_bucket", "aws_s3_bucket.logs"),
        r("aws_s3_bucket", "a1", tags={"app": "shop-staging"}),
        r("aws_s3_bucket", "b1", name="orders-stg"),
        r("v1/ConfigMap", "v1/ConfigMap/shop-staging/app"),
    ]
    right = [
        r("aws_s3_bucket", "aws_s3_bucket.logs"),
        r("aws_s3_bucket", "a2", tags={"app": "shop-prod"}),
        r("aws_s3_bucket", "b2", name="orders-prod"),
        r("v1/ConfigMap", "v1/ConfigMap/shop-prod/app"),
    ]
    p = pair_resources(left, right, PH_S, PH_P, ("app",))
    got = {(a.key, b.key) for a, b in p.pairs}
    assert got == {
        ("aws_s3_bucket.logs", "aws_s3_bucket.logs"),
        ("a1", "a2"),
        ("b1", "b2"),
        ("v1/ConfigMap/shop-staging/app", "v1/ConfigMap/shop-prod/app"),
    }
    assert not p.only_left and not p.only_right


def test_pairing_refuses_ambiguous_matches() -> None:
    left = [r("aws_s3_bucket", "x1", name="data-stg"), r("aws_s3_bucket", "x2", name="data-staging")]
    right = [r("aws_s3_bucket", "y1", name="data-prod")]
    p = pair_resources(left, right, PH_S, PH_P)
    assert p.pairs == () and len(p.only_left) == 2 and len(p.only_right) == 1


def test_pairing_never_crosses_types() -> None:
    p = pair_resources([r("aws_s3_bucket", "k")], [r("aws_sqs_queue", "k")], PH_S, PH_P)
    assert p.pairs == ()


NAMES = st.sampled_from(["a", "b", "c", "shop-{e}", "db-{e}", "x-{e}-y"])
TYPES = st.sampled_from(["t1", "t2", "t3"])
SIDE = st.lists(st.tuples(TYPES, NAMES, st.sampled_from(["k1", "k2", "k3", "k4"])), max_size=12)


@settings(max_examples=150, deadline=None)
@given(SIDE, SIDE)
def test_pairing_properties(left_spec: list[tuple[str, str, str]], right_spec: list[tuple[str, str, str]]) -> None:
    left = [Resource(t, f"L{i}", k, name=n.format(e="staging")) for i, (t, n, k) in enumerate(left_spec)]
    right = [Resource(t, f"R{i}", k, name=n.format(e="prod")) for i, (t, n, k) in enumerate(right_spec)]
    p = pair_resources(left, right, PH_S, PH_P, ("app",))
    assert all(a.type == b.type for a, b in p.pairs)
    seen_l = [a.id for a, _ in p.pairs] + [x.id for x in p.only_left]
    seen_r = [b.id for _, b in p.pairs] + [x.id for x in p.only_right]
    assert sorted(seen_l) == sorted(x.id for x in left)  # every resource exactly once
    assert sorted(seen_r) == sorted(x.id for x in right)


KEYS = st.lists(st.sampled_from(["k1", "k2", "k3", "k4", "k5", None]), max_size=8)


@settings(max_examples=200, deadline=None)
@given(KEYS, KEYS)
def test_match_unique_keys_pairs_exactly_the_keys_unique_on_both_sides(
    keys_l: list[str | None], keys_r: list[str | None]
) -> None:
    """Against the definition: a key held by exactly one resource on each side pairs them, in left order."""
    left = [Resource("t", f"L{i}", f"l{i}") for i in range(len(keys_l))]
    right = [Resource("t", f"R{i}", f"r{i}") for i in range(len(keys_r))]
    pairs: list[tuple[Resource, Resource]] = []
    rest_l, rest_r = match_unique_keys(left, right, keys_l, keys_r, pairs)
    unique = {k for k in keys_l if k is not None and keys_l.count(k) == 1 and keys_r.count(k) == 1}
    expected = [(left[i].id, right[keys_r.index(k)].id) for i, k in enumerate(keys_l) if k in unique]
    assert [(a.id, b.id) for a, b in pairs] == expected
    assert [r.id for r in rest_l] == [r.id for r, k in zip(left, keys_l, strict=True) if k not in unique]
    assert [r.id for r in rest_r] == [r.id for r, k in zip(right, keys_r, strict=True) if k not in unique]


# ---------------------------------------------------------------------------------------- mirrors
def test_identical_mirrors_modulo_env_account_region_have_no_findings() -> None:
    s = inv(
        "staging",
        r(
            "aws_iam_role",
            "aws_iam_role.app",
            name="shop-staging-app",
            arn="arn:aws:iam::111111111111:role/shop-staging-app",
            region="eu-west-1",
            host="api.staging.example.com",
            id="AROA1",
        ),
    )
    p = inv(
        "production",
        r(
            "aws_iam_role",
            "aws_iam_role.app",
            name="shop-prod-app",
            arn="arn:aws:iam::222222222222:role/shop-prod-app",
            region="eu-central-1",
            host="api.prod.example.com",
            id="AROA2",
        ),
    )
    assert compare_mirrors(s, p, RULES) == []


def test_differs_names_the_changed_paths_and_severity() -> None:
    dep = "apps/v1/Deployment"
    s = inv("staging", r(dep, "k", spec={"template": {"spec": {"containers": [{"name": "web", "image": "shop:2.0"}]}}}))
    p = inv(
        "production", r(dep, "k", spec={"template": {"spec": {"containers": [{"name": "web", "image": "shop:3.0"}]}}})
    )
    (f,) = compare_mirrors(s, p, RULES)
    assert f.kind == "differs" and f.severity == "medium"
    assert [(c.path, c.left, c.right) for c in f.changes] == [
        ("spec.template.spec.containers[web].image", "shop:2.0", "shop:3.0")
    ]
    assert f.environments == ("staging", "production") and f.resources == {"staging": "k", "production": "k"}
    assert f.detail == ""


def test_policy_difference_is_high() -> None:
    pol = '{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'
    s = inv("staging", r("aws_s3_bucket", "b", policy=pol))
    p = inv("production", r("aws_s3_bucket", "b", policy=pol.replace("s3:GetObject", "s3:*")))
    (f,) = compare_mirrors(s, p, RULES)
    assert f.severity == "high"


def test_redacted_values_differ_as_markers() -> None:
    s = inv("staging", r("config/env", "app.env", DB_PASSWORD="<redacted:aaaaaaaaaaaa>"))
    p = inv("production", r("config/env", "app.env", DB_PASSWORD="<redacted:bbbbbbbbbbbb>"))
    (f,) = compare_mirrors(s, p, RULES)
    assert (f.changes[0].left, f.changes[0].right) == ("<redacted:aaaaaaaaaaaa>", "<redacted:bbbbbbbbbbbb>")


def test_expected_differences_are_suppressed_and_listed() -> None:
    rules = Rules(tokens=RULES.tokens, expected=(Expected(reason="prod sized for load", path="spec.replicas"),))
    s = inv("staging", r("apps/v1/Deployment", "k", spec={"replicas": 2, "paused": False}))
    p = inv("production", r("apps/v1/Deployment", "k", spec={"replicas": 6, "paused": False}))
    res = mirror_report(s, p, rules)
    assert res.findings == ()
    assert [(e.change.path, e.reason) for e in res.expected] == [("spec.replicas", "prod sized for load")]
    p2 = inv("production", r("apps/v1/Deployment", "k", spec={"replicas": 6, "paused": True}))
    (f,) = mirror_report(s, p2, rules).findings
    assert [c.path for c in f.changes] == ["spec.paused"]
    assert [(x.rule, x.change.path if x.change else None) for x in f.suppressed] == [("expected", "spec.replicas")]


def test_only_in_one_finding_per_resource_and_later_stage_is_high() -> None:
    s = inv("staging", r("aws_s3_bucket", "aws_s3_bucket.a"))
    p = inv("production", r("aws_s3_bucket", "aws_s3_bucket.a"), r("aws_sqs_queue", "aws_sqs_queue.hotfix"))
    (f,) = compare_mirrors(s, p, RULES)
    assert f.kind == "only_in" and f.severity == "high"
    assert f.resources == {"production": "aws_sqs_queue.hotfix"}
    assert "only in production" in f.message
    s2 = inv("staging", r("aws_s3_bucket", "aws_s3_bucket.a"), r("aws_sqs_queue", "aws_sqs_queue.new"))
    (g,) = compare_mirrors(s2, inv("production", r("aws_s3_bucket", "aws_s3_bucket.a")), RULES)
    assert g.severity == "medium" and g.resources == {"staging": "aws_sqs_queue.new"}


def test_coverage_gap_never_yields_only_in() -> None:
    gap = Coverage(gaps=(CoverageGap("eu-west-1", "AccessDenied", "aws_sqs_queue", "denied"),))
    s = inv("staging", r("aws_sqs_queue", "q1"), r("aws_s3_bucket", "b-new"), role="live", coverage=gap)
    p = inv("production", r("aws_sqs_queue", "q2"), role="live")
    res = mirror_report(s, p, RULES)
    assert [f.key for f in res.findings] == ["b-new"]
    assert res.uncovered_types == ("aws_sqs_queue",)
    whole = Coverage(gaps=(CoverageGap("eu-west-1", "throttled"),))
    s3 = inv("staging", role="live", coverage=whole)
    assert compare_mirrors(s3, p, RULES) == []


def test_like_with_like_live_vs_live() -> None:
    s = Inventory(
        "staging",
        (
            Snapshot("staging", "tf", "terraform-state", "declared", WHEN, (r("aws_s3_bucket", "declared-only"),)),
            Snapshot("staging", "aws", "aws", "live", WHEN, (r("aws_s3_bucket", "b"),)),
        ),
    )
    p = Inventory("production", (Snapshot("production", "aws", "aws", "live", WHEN, (r("aws_s3_bucket", "b"),)),))
    res = mirror_report(s, p, RULES)
    assert res.role == "live" and res.findings == ()
