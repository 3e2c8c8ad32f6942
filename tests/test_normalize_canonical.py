"""canonicalize: JSON strings, noise KB (volatile, equality-gated defaults, order), empties, IAM shapes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.errors import InputError
from parity.model import Location, Resource, Snapshot
from parity.normalize import CanonicalMemo, canonical_attributes, canonicalize, default_kb, load_kb_text
from parity.normalize.canonical import with_attributes
from parity.normalize.noise import parse_kb

pytestmark = pytest.mark.usefixtures("both_walkers")  # the C walk and the Python one it ports

DEPLOY = "apps/v1/Deployment"


def res(type_: str = "aws_s3_bucket", **attrs: Any) -> Resource:
    return Resource(type=type_, id="id-1", key=f"{type_}.x", attributes=attrs)


def snap(*resources: Resource) -> Snapshot:
    return Snapshot("staging", "s", "terraform-state", "declared", dt.datetime(2026, 1, 1), resources)


def canon(type_: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return canonical_attributes(type_, attrs)


# ----------------------------------------------------------------------------------- JSON strings
def test_json_string_policy_is_parsed_and_equal_to_structure() -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}
    as_string = canon("aws_iam_policy", {"policy": json.dumps(doc)})
    as_struct = canon("aws_iam_policy", {"policy": doc})
    assert as_string == as_struct
    assert isinstance(as_string["policy"], dict)


def test_url_encoded_policy_document_is_parsed() -> None:
    encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
    assert canon("aws_iam_role", {"assume_role_policy": encoded})["assume_role_policy"] == {"Version": "2012-10-17"}


@pytest.mark.parametrize("text", ["{not json", "[1, 2", "{} trailing", "plain", "[redacted]"])
def test_strings_that_do_not_parse_stay_strings(text: str) -> None:
    assert canon("config/yaml", {"v": text}) == {"v": text}


def test_json_scalar_strings_are_not_parsed() -> None:
    assert canon("config/yaml", {"v": "42", "w": '"quoted"'}) == {"v": "42", "w": '"quoted"'}


# --------------------------------------------------------------------------------------- IAM
def test_iam_single_action_equals_list_and_order_is_ignored() -> None:
    a = {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}
    b = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}]}
    assert canon("aws_iam_policy", {"policy": a}) == canon("aws_iam_policy", {"policy": b})
    c = {"Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}]}
    d = {
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:GetObject"], "Resource": "*"}]
    }
    assert canon("aws_iam_policy", {"policy": c}) == canon("aws_iam_policy", {"policy": d})


def test_iam_statement_order_and_principal_shape_do_not_matter() -> None:
    s1 = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"}
    s2 = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    s2_list = {**s2, "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}
    one = canon("aws_iam_role", {"p": {"Version": "2012-10-17", "Statement": [s1, s2]}})
    two = canon(
        "aws_iam_role",
        {"p": {"Version": "2012-10-17", "Statement": [s2_list, {**s1, "Principal": {"AWS": ["arn:aws:iam::1:root"]}}]}},
    )
    assert one == two


def test_iam_different_actions_stay_different() -> None:
    a = canon("aws_iam_policy", {"policy": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}})
    b = canon("aws_iam_policy", {"policy": {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}})
    assert a != b


# ------------------------------------------------------------------------------------ empties
def test_empty_is_folded_into_absent_but_list_elements_are_kept() -> None:
    got = canon(
        "config/yaml", {"a": None, "b": "", "c": [], "d": {}, "e": {"f": None}, "g": [None, "", 0], "h": 0, "i": False}
    )
    assert got == {"g": [None, "", 0], "h": 0, "i": False}


# -------------------------------------------------------------------------------------- noise KB
def _deployment(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "uid": "u-1",
            "resourceVersion": "99",
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"},
        },
        "spec": spec,
        "status": {"replicas": 2},
    }


def test_kubernetes_volatile_fields_are_dropped() -> None:
    got = canon(DEPLOY, _deployment(replicas=2))
    assert got == {"metadata": {"name": "web", "annotations": {"team": "a"}}, "spec": {"replicas": 2}}


def test_defaults_fold_only_when_equal() -> None:
    c = {
        "name": "app",
        "image": "x:1",
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
    }
    live = canon(
        DEPLOY,
        _deployment(revisionHistoryLimit=10, template={"spec": {"containers": [c], "dnsPolicy": "ClusterFirst"}}),
    )
    declared = canon(DEPLOY, _deployment(template={"spec": {"containers": [{"name": "app", "image": "x:1"}]}}))
    assert live == declared
    moved = canon(
        DEPLOY,
        _deployment(revisionHistoryLimit=3, template={"spec": {"containers": [{**c, "imagePullPolicy": "Always"}]}}),
    )
    assert moved["spec"]["revisionHistoryLimit"] == 3
    assert moved["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"


def test_default_is_type_gated() -> None:
    got = canon(DEPLOY, _deployment(revisionHistoryLimit="10"))
    assert got["spec"]["revisionHistoryLimit"] == "10"


def test_rolling_update_defaults_fold_to_nothing() -> None:
    got = canon(
        DEPLOY,
        _deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
    )
    assert "spec" not in got


def test_terraform_tags_all_and_timeouts_are_volatile_arn_is_not() -> None:
    got = canon(
        "aws_s3_bucket", {"bucket": "b", "arn": "arn:aws:s3:::b", "tags_all": {"a": "1"}, "timeouts": {"create": "5m"}}
    )
    assert got == {"bucket": "b", "arn": "arn:aws:s3:::b"}


def test_security_group_rules_and_cidrs_are_order_insensitive() -> None:
    r1 = {"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"]}
    r2 = {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.1.0.0/16"]}
    a = canon("aws_security_group", {"ingress": [r1, r2]})
    b = canon("aws_security_group", {"ingress": [r2, {**r1, "cidr_blocks": ["192.168.0.0/16", "10.0.0.0/8"]}]})
    assert a == b
    # an ordinary list keeps its order
    assert canon("aws_instance", {"x": [2, 1]}) != canon("aws_instance", {"x": [1, 2]})


def test_canonicalize_snapshot_keeps_identity_and_tags() -> None:
    r = Resource("aws_s3_bucket", "b", "aws_s3_bucket.b", {"bucket": "b", "acl": None}, tags={"k": ""}, name="b")
    out = canonicalize(snap(r)).resources[0]
    assert (out.type, out.id, out.key, out.name, dict(out.tags)) == (
        "aws_s3_bucket",
        "b",
        "aws_s3_bucket.b",
        "b",
        {"k": ""},
    )
    assert out.attributes == {"bucket": "b"}


# ------------------------------------------------------------------------------ KB validation
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("version: 2\ntypes: []\n", "version"),
        ("version: 1\ntypes:\n  - volatile: [a]\n", "match"),
        ("version: 1\ntypes:\n  - match: [x]\n    volatil: [a]\n", "unknown key 'volatil'"),
        ("version: 1\ntypes:\n  - match: [x]\n    defaults: {a: {b: 1}}\n", "scalar"),
        ("version: 1\ntypes:\n  - match: [x]\n    volatile: ['a..b']\n", "bad path pattern"),
        ("version: 1\ntypes: [\n", "invalid YAML"),
    ],
)
def test_kb_validation_errors_name_the_file_and_entry(text: str, needle: str) -> None:
    with pytest.raises(InputError) as e:
        load_kb_text(text, "my-noise.yaml")
    assert "my-noise.yaml" in str(e.value)
    assert needle in str(e.value)


def test_packaged_kb_loads_and_user_kb_extends_it() -> None:
    kb = default_kb()
    assert kb.for_type(DEPLOY).canonical is not None
    extra = parse_kb({"version": 1, "types": [{"match": ["config/*"], "volatile": ["build_time"]}]}, "x.yaml")
    both = kb.extended(extra)
    assert canonical_attributes("config/env", {"build_time": "now", "a": 1}, both) == {"a": 1}
    assert canonical_attributes("config/env", {"build_time": "now", "a": 1}, kb) == {"build_time": "now", "a": 1}


# ------------------------------------------------------------------------------ properties
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["", "a", "b", "[1]", '{"x": 1}', "{x"])
)
KEYS = st.sampled_from(["a", "b", "Statement", "Action", "Effect", "spec", "status", "replicas", "cidr_blocks"])
JSONISH = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(KEYS, kids, max_size=4), max_leaves=15
)
TYPES = st.sampled_from(["aws_iam_role", "aws_security_group", DEPLOY, "v1/Service", "config/yaml"])


@settings(max_examples=150, deadline=None)
@given(TYPES, st.dictionaries(KEYS, JSONISH, max_size=5))
def test_canonicalize_is_idempotent_and_deterministic(type_: str, attrs: dict[str, Any]) -> None:
    once = canonical_attributes(type_, attrs)
    assert canonical_attributes(type_, once) == once
    assert canonical_attributes(type_, json.loads(json.dumps(attrs))) == once


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "from_port": st.integers(0, 5),
                "cidr_blocks": st.lists(st.sampled_from(["10.0.0.0/8", "0.0.0.0/0", "1.2.3.4/32"]), max_size=3),
            }
        ),
        max_size=4,
    ),
    st.randoms(),
)
def test_kb_unordered_lists_ignore_order(rules: list[dict[str, Any]], rnd: random.Random) -> None:
    shuffled = [{**r, "cidr_blocks": rnd.sample(r["cidr_blocks"], len(r["cidr_blocks"]))} for r in rules]
    rnd.shuffle(shuffled)
    assert canon("aws_security_group", {"ingress": rules}) == canon("aws_security_group", {"ingress": shuffled})


def snapshot_of(resources: list[tuple[str, dict[str, Any]]]) -> Snapshot:
    res = tuple(
        Resource(type=t, id=f"r{i}", key=f"k{i}", attributes=a, tags={"n": str(i)})
        for i, (t, a) in enumerate(resources)
    )
    return Snapshot("staging", "src", "terraform-state", "declared", dt.datetime(2026, 1, 1), res)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(TYPES, st.dictionaries(KEYS, JSONISH, max_size=4)), max_size=6),
    st.lists(st.tuples(TYPES, st.dictionaries(KEYS, JSONISH, max_size=4)), max_size=6),
)
def test_memo_gives_what_canonicalize_gives_scan_after_scan(
    first: list[tuple[str, dict[str, Any]]], changed: list[tuple[str, dict[str, Any]]]
) -> None:
    """The memo's answer equals a fresh canonicalisation: first scan, unchanged rescan, and a rescan where
    some resources changed (the memo must not answer for content it has not seen)."""
    memo = CanonicalMemo()
    for spec in (first, first, first[: len(first) // 2] + changed):
        memo.rotate()
        snap = snapshot_of(spec)
        assert canonicalize(snap, memo=memo) == canonicalize(snap)


def test_memo_walks_only_new_content_and_forgets_what_a_scan_did_not_use() -> None:
    a = ("aws_iam_role", {"assume_role_policy": '{"Statement": {"Action": "sts:AssumeRole"}}', "x": None})
    b = ("aws_s3_bucket", {"bucket": "logs", "tags_all": {"a": "b"}})
    memo = CanonicalMemo()
    canonicalize(snapshot_of([a, b]), memo=memo)
    assert (memo.hits, memo.misses) == (0, 2)
    memo.rotate()
    canonicalize(snapshot_of([a]), memo=memo)
    assert (memo.hits, memo.misses) == (1, 2)
    memo.rotate()  # b was not used by the last scan: gone now
    assert len(memo) == 1
    canonicalize(snapshot_of([a, b]), memo=memo)
    assert (memo.hits, memo.misses) == (2, 3)
    # the same content under another type is another entry (KB rules are per type)
    canonicalize(snapshot_of([("aws_s3_bucket", a[1])]), memo=memo)
    assert memo.misses == 4


def test_with_attributes_keeps_every_other_field() -> None:
    r = Resource(
        type="t", id="i", key="k", attributes={"a": 1}, tags={"x": "y"}, origin="o", owner="terraform",
        name="n", address="addr", location=Location("f.tf", 3),
    )  # fmt: skip
    got = with_attributes(r, {"b": 2})
    assert got.attributes == {"b": 2}
    for f in dataclasses.fields(Resource):
        if f.name != "attributes":
            assert getattr(got, f.name) == getattr(r, f.name), f.name
