"""The paired walk (parity.compare.equal).

The walk may only ever shorten the exact test: a pair it calls equal must be equal bytes after each side's
placeholders (what the comparison decided before it existed). The C port is held to the Python reference on
generated values; mirror reports are the same with and without it."""

from __future__ import annotations

import datetime as dtm
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.compare import Inventory, Rules, find_cross_env_references, mirror_report
from parity.compare import equal as equal_mod
from parity.compare import mirrors as mirrors_mod
from parity.compare import references as references_mod
from parity.compare.equal import (
    EQUAL,
    STRINGS,
    UNSURE,
    equal_parts,
    equal_parts_py,
    settle,
    settle_py,
    substituted,
    unsure_pairs,
    walk_needles,
)
from parity.compare.textscan import holds, needles, values_holding, values_holding_py
from parity.model import MAX_DEPTH, Resource, Snapshot
from parity.normalize.native import compiled
from parity.normalize.placeholders import Placeholders

needs_c = pytest.mark.skipif(
    compiled() is None,
    reason="the compiled part is not built here (no C compiler at install time, or PARITY_PURE_PYTHON): "
    "nothing to compare the Python with",
)

STAGING = Placeholders(["staging", "stg"], ["111122223333"], ["444455556666"])
PROD = Placeholders(["prod", "production"], ["444455556666"], ["111122223333"])

# Text that the placeholders rewrite (tokens in every case, accounts, regions, generated ids, ARNs), or not.
PIECES = st.sampled_from(
    [
        "shop-", "staging", "Staging", "STG", "prod", "PROD", "production", "product", "-db", ".internal",
        "111122223333", "444455556666", "999988887777", "arn:aws:iam::", ":role/", "arn:aws:s3:::",
        "eu-west-1", "eu-central-1", "eu-west-1a", "sg-", "0123abcd", "0123456789abcdef0", "vpc-", "\n",
        "\\n", "é", "ß", "prodé", "/", ":", " ", "1", "true", "{env}", '"', "pre-prod", "Pre-Prod", "-",
    ]
)  # fmt: skip
TEXT = st.lists(PIECES, max_size=5).map("".join) | st.text(max_size=4)
KEY = st.sampled_from(["a", "b", "name", "shop-prod", "staging-key", "Tags", "é"]) | TEXT
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 2**40, 1.0, 0.0, -0.0, 1.5, True, False, 111122223333]),
    st.integers(-(2**63), 2**64 - 1),  # what orjson writes (sources keep larger numbers as text)
    st.floats(allow_nan=False),
    TEXT,
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def variant(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with some strings, scalars, keys or key order changed: a mirror's copy of it."""
    t = type(value)
    if t is str and draw(st.booleans()):
        return draw(TEXT)
    if t is dict:
        items = [(k, draw(variant(v))) for k, v in value.items()]
        if items and draw(st.booleans()):
            items.reverse()  # another key order: the same value
        if items and draw(st.integers(0, 9)) == 0:
            items[0] = (draw(KEY), items[0][1])
        return dict(items)
    if t is list:
        out = [draw(variant(v)) for v in value]
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(SCALAR))
        return out
    if draw(st.integers(0, 7)) == 0:
        return draw(SCALAR)
    return value


PAIRS = st.lists(VALUE.flatmap(lambda v: st.tuples(st.just(v), variant(v))), min_size=1, max_size=6)


def _exact_unequal(left: list[Any], right: list[Any], ph_l: Placeholders, ph_r: Placeholders) -> list[int]:
    """The exact test the walk shortens: sorted-key JSON, each side's placeholders, equal bytes."""
    a, b = ph_l.sub_records(left), ph_r.sub_records(right)
    return [i for i in range(len(left)) if a[i] != b[i]]


@settings(max_examples=600, deadline=None)
@given(PAIRS)
def test_a_pair_the_walk_calls_equal_is_equal_after_placeholders(pairs: list[tuple[Any, Any]]) -> None:
    left = [{"v": a} for a, _ in pairs]
    right = [{"v": b} for _, b in pairs]
    exact = set(_exact_unequal(left, right, STAGING, PROD))
    for walk in ("as built", "python"):
        saved = equal_mod.compiled
        if walk == "python":
            equal_mod.compiled = lambda: None  # type: ignore[assignment]
        try:
            unsure = set(unsure_pairs(left, right, STAGING, PROD))
        finally:
            equal_mod.compiled = saved
        assert exact <= unsure, f"the walk ({walk}) called a pair equal that the exact test finds unequal"


MAPS = st.dictionaries(KEY, VALUE, max_size=5)
MAP_PAIRS = st.lists(MAPS.flatmap(lambda v: st.tuples(st.just(v), variant(v))), min_size=1, max_size=6)
DROPS = st.sampled_from([None, frozenset(), frozenset({"a"}), frozenset({"a", "name", "shop-prod"}), frozenset({"b"})])


def _without(value: dict[str, Any], drops: frozenset[str] | None) -> dict[str, Any]:
    return value if drops is None else {k: v for k, v in value.items() if k not in drops}


@settings(max_examples=400, deadline=None)
@given(MAP_PAIRS, st.data())
def test_top_level_keys_left_out_are_as_if_removed(pairs: list[tuple[Any, Any]], data: st.DataObject) -> None:
    left, right = [a for a, _ in pairs], [b for _, b in pairs]
    dl, dr = [data.draw(DROPS) for _ in pairs], [data.draw(DROPS) for _ in pairs]
    cut_l = [_without(a, d) for a, d in zip(left, dl, strict=True)]
    cut_r = [_without(b, d) for b, d in zip(right, dr, strict=True)]
    exact = set(_exact_unequal(cut_l, cut_r, STAGING, PROD))
    assert exact <= set(unsure_pairs(left, right, STAGING, PROD, dl, dr))
    nd = walk_needles(STAGING, PROD)
    assert nd is not None
    stripped = equal_parts_py(cut_l, cut_r, nd)
    assert equal_parts_py(left, right, nd, dl, dr) == stripped  # the same walk, strings and all
    assert equal_parts(left, right, nd, dl, dr) == stripped


def test_the_walk_settles_what_differs_only_by_placeholders_and_keeps_real_differences() -> None:
    left = [
        {"name": "shop-staging-db", "arn": "arn:aws:iam::111122223333:role/shop-stg", "region": "eu-west-1"},
        {"sg": "sg-0123456789abcdef0", "n": 1, "tags": {"env": "staging"}},
        {"refers": "shop-prod-db"},  # staging naming production: the same text is a difference
        {"n": 1},
        {"n": 0.0},
        {"ok": True},
    ]
    right = [
        {"region": "eu-central-1", "arn": "arn:aws:iam::444455556666:role/shop-prod", "name": "shop-prod-db"},
        {"sg": "sg-0fedcba987654321f", "n": 1, "tags": {"env": "prod"}},
        {"refers": "shop-prod-db"},
        {"n": 1.0},
        {"n": -0.0},
        {"ok": 1},
    ]
    assert unsure_pairs(left, right, STAGING, PROD) == [2, 3, 4, 5]
    assert _exact_unequal(left, right, STAGING, PROD) == [2, 3, 4, 5]


@pytest.mark.parametrize("token", ["true", "null", "False", "null-x", "2", "1x", "-prod", "é", 'x",', "x\\", "x\ty"])
def test_tokens_that_could_match_outside_strings_turn_the_walk_off(token: str) -> None:
    ph = Placeholders([token])
    assert walk_needles(ph, PROD) is None
    assert unsure_pairs([{"a": 1}], [{"a": 1}], ph, PROD) == [0]


@pytest.mark.parametrize("token", ["pre-prod", "stg", "nullx", "truex-1", "x.y"])
def test_tokens_with_other_characters_keep_the_walk_on(token: str) -> None:
    """The default token groups hold ``pre-prod``: the walk must not turn off for every staging config."""
    ph = Placeholders(["staging", token])
    assert walk_needles(ph, PROD) is not None
    assert unsure_pairs([{"a": f"shop-{token}-db"}], [{"a": "shop-prod-db"}], ph, PROD) == []


HYPHENATED = Placeholders(["staging", "pre-prod", "stg"], ["111122223333"], ["444455556666"])


@settings(max_examples=400, deadline=None)
@given(PAIRS)
def test_the_walk_is_exact_with_hyphenated_tokens(pairs: list[tuple[Any, Any]]) -> None:
    left = [{"v": a} for a, _ in pairs]
    right = [{"v": b} for _, b in pairs]
    assert set(_exact_unequal(left, right, HYPHENATED, PROD)) <= set(unsure_pairs(left, right, HYPHENATED, PROD))


def test_a_substitution_that_does_not_parse_back_leaves_the_pairs_unsure() -> None:
    ph = Placeholders(["n"])  # matches the "n" of an escaped newline: "\{env}" is not JSON
    assert substituted(ph, ["a\n-b"]) is None
    assert unsure_pairs([{"x": "a\n-b"}], [{"x": "a\n-c"}], ph, PROD) == [0]


@needs_c
@settings(max_examples=800, deadline=None)
@given(PAIRS, st.sampled_from([(), ("prod",), ("prod", "staging"), ("",)]), st.booleans())
def test_c_equal_parts_equals_the_python(pairs: list[tuple[Any, Any]], names: tuple[str, ...], acct: bool) -> None:
    nd = needles(names, ["111122223333"] if acct else ())
    left = [a for a, _ in pairs]
    right = [b for _, b in pairs]
    got = equal_parts(left, right, nd)
    want = equal_parts_py(left, right, nd)
    assert got == want
    status, sl, sr, refs, bounds = want
    for subs_l, subs_r in ((sl, sr), (None, None), ([s + "x" for s in sl], sr)):
        assert settle(status, refs, bounds, subs_l, subs_r) == settle_py(status, refs, bounds, subs_l, subs_r)


def test_equal_parts_statuses_and_string_lists() -> None:
    nd = needles(["prod"])
    left = [{"a": "x", "b": [1, "prod"]}, {"a": "x"}, {"a": 1}, {"a": "same"}]
    right = [{"b": [1, "prod"], "a": "y"}, {"a": "x"}, {"a": True}, {"a": "same"}]
    status, sl, sr, refs, bounds = equal_parts_py(left, right, nd)
    assert list(status) == [STRINGS, EQUAL, UNSURE, EQUAL]
    assert (sl, sr) == (["x", "prod"], ["y", "prod"])  # the differing pair, and "prod" on both sides
    assert settle_py(status, refs, bounds, ["x", "prod"], ["x", "prod"]) == [2]
    assert settle_py(status, refs, bounds, ["x", "prod"], ["y", "prod"]) == [0, 2]


@needs_c
@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 3])
def test_deep_values_are_unsure_alike(depth: int) -> None:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": value}
    nd = needles(["prod"])
    assert equal_parts([value], [value], nd) == equal_parts_py([value], [value], nd)
    assert values_holding([value], nd) == values_holding_py([value], nd)


def test_holds_folds_ascii_case_and_finds_accounts_in_digit_runs() -> None:
    nd = needles(["prod", "example.com"], ["111122223333", "not-an-id"])
    assert holds("db.PROD.internal", nd)
    assert holds("api.Example.COM", nd)
    assert holds("x9111122223333", nd)  # a window of a longer run (the reference scan decides later)
    assert holds("NOT-AN-ID", nd)  # an account that is not 12 digits: looked for as text
    assert not holds("product-db", needles(["prods"]))
    assert not holds("11112222333", nd)
    assert not holds("prοd", nd)  # a Greek omicron: only ASCII letters are folded


@needs_c
@settings(max_examples=800, deadline=None)
@given(
    st.lists(VALUE, max_size=6),
    st.sampled_from([(), ("prod",), ("prod", "example.com"), ("é",), ("",)]),
    st.sampled_from([(), ("111122223333",), ("111122223333", "444455556666", "999988887777")]),
)
def test_c_holding_equals_the_python(values: list[Any], names: tuple[str, ...], accounts: tuple[str, ...]) -> None:
    nd = needles(names, accounts)
    assert values_holding(values, nd) == values_holding_py(values, nd)


# ------------------------------------------------------------------------- whole comparisons, both ways
WHEN = dtm.datetime(2026, 1, 1, tzinfo=dtm.UTC)
RULES = Rules(
    tokens={"staging": ("staging", "stg"), "production": ("prod", "production")},
    promotion=("staging", "production"),
    accounts={"staging": ("111122223333",), "production": ("444455556666",)},
)


# no instance rules; a few top-level keys dropped (id, bucket_domain_name, ...); deeper rules
TYPES = ["aws_thing", "aws_s3_bucket", "aws_instance"]
ATTRS = st.fixed_dictionaries(
    {"v": VALUE},
    optional={"id": TEXT, "bucket_domain_name": TEXT, "tags": MAPS, "private_ip": TEXT, "root_block_device": VALUE},
)
TAGS = st.sampled_from([{}, {"env": "staging"}, {"env": "prod", "app": "shop"}])


def _inventory(env: str, attrs: list[Any], types: list[str], tags: list[dict[str, str]]) -> Inventory:
    res = tuple(
        Resource(type=t, id=f"t{i}", key=f"{t}.t{i}", attributes=a, tags=g)
        for i, (a, t, g) in enumerate(zip(attrs, types, tags, strict=True))
    )
    return Inventory(env, (Snapshot(env, "s", "terraform-state", "declared", WHEN, res),))


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.lists(ATTRS.flatmap(lambda v: st.tuples(st.just(v), variant(v))), min_size=1, max_size=6), st.data())
def test_mirror_reports_are_the_same_with_and_without_the_walk(
    pairs: list[tuple[Any, Any]], data: st.DataObject
) -> None:
    types = [data.draw(st.sampled_from(TYPES)) for _ in pairs]
    left = _inventory("staging", [a for a, _ in pairs], types, [data.draw(TAGS) for _ in pairs])
    right = _inventory("production", [b for _, b in pairs], types, [data.draw(TAGS) for _ in pairs])
    fast = mirror_report(left, right, RULES)
    saved = mirrors_mod.compiled
    mirrors_mod.compiled = lambda: None  # type: ignore[assignment]
    try:
        slow = mirror_report(left, right, RULES)
    finally:
        mirrors_mod.compiled = saved
    assert fast == slow


@needs_c
@settings(max_examples=150, deadline=None)
@given(st.lists(ATTRS, min_size=1, max_size=5), st.lists(ATTRS, min_size=1, max_size=5))
def test_reference_findings_are_the_same_with_and_without_the_compiled_scan(a: list[Any], b: list[Any]) -> None:
    invs = [
        _inventory("staging", a, ["aws_thing"] * len(a), [{}] * len(a)),
        _inventory("production", b, ["aws_s3_bucket"] * len(b), [{"env": "staging"}] * len(b)),
    ]
    fast = find_cross_env_references(invs, RULES)
    saved = references_mod.compiled
    references_mod.compiled = lambda: None  # type: ignore[assignment]
    try:
        slow = find_cross_env_references(invs, RULES)
    finally:
        references_mod.compiled = saved
    assert fast == slow
