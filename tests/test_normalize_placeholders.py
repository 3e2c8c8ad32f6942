"""Placeholders: env tokens as whole parts, accounts, regions, generated ids; bytes and value forms agree."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.normalize import Placeholders
from parity.normalize.placeholders import serialize_records

PROD = Placeholders(["prod", "prd", "production"], ["111111111111"], ["222222222222"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("api-prod", "api-{env}"),
        ("prod.example.com", "{env}.example.com"),
        ("shop_production", "shop_{env}"),
        ("Prod-DB", "{env}-DB"),
        ("SHOP_PROD", "SHOP_{env}"),
        ("product", "product"),
        ("reproduce", "reproduce"),
        ("prods", "prods"),
        ("staging", "staging"),
        ("line\nprod", "line\n{env}"),
    ],
)
def test_env_tokens_are_whole_parts(value: str, expected: str) -> None:
    assert PROD.sub_str(value) == expected
    assert PROD.apply(value) == expected


def test_accounts_regions_and_ids() -> None:
    v = "arn:aws:iam::111111111111:role/x arn:aws:sqs:eu-west-1:333333333333:q arn:aws:iam::222222222222:root"
    assert (
        PROD.apply(v) == "arn:aws:iam::{account}:role/x arn:aws:sqs:{region}:{account}:q arn:aws:iam::222222222222:root"
    )
    assert PROD.apply("eu-central-1a us-gov-west-1") == "{region}a {region}"
    assert PROD.apply("sg-0123456789abcdef0 vpc-618f6e09 ami-0697b068") == "sg-{id} vpc-{id} ami-0697b068"
    assert PROD.apply("1111111111112") == "1111111111112"  # part of a longer number


def test_bare_number_accounts_are_left_alone_and_json_stays_valid() -> None:
    assert PROD.apply({"owner": 111111111111, "ids": [111111111111]}) == {"owner": 111111111111, "ids": [111111111111]}


def test_mapping_keys_are_substituted_too() -> None:
    assert PROD.apply({"db.prod.internal": 1}) == {"db.{env}.internal": 1}


TEXT = st.lists(
    st.sampled_from(
        [
            "prod",
            "Prod",
            "PROD",
            "production",
            "x",
            "-",
            ".",
            "/",
            "\n",
            "\t",
            "\\",
            '"',
            "1",
            "eu-west-1",
            "111111111111",
            "222222222222",
            "sg-0123abcd",
            "arn:aws:iam::",
            ":",
            "é",
            "product",
        ]
    ),
    max_size=12,
).map("".join)
VALUES: st.SearchStrategy[Any] = st.recursive(
    TEXT | st.integers(-(2**63), 2**63 - 1) | st.none(),
    lambda k: st.lists(k, max_size=3) | st.dictionaries(TEXT, k, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_bytes_form_and_value_form_agree(value: Any) -> None:
    """apply() is the serialised substitution round-tripped: sub_bytes equality is exactly apply equality."""
    raw = orjson.dumps(value)
    assert orjson.loads(PROD.sub_bytes(raw)) == PROD.apply(value)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_string_form_matches_value_form(text: str) -> None:
    assert PROD.sub_str(text) == PROD.apply(text)


RECORDS = st.lists(st.dictionaries(TEXT | st.just("~|~"), VALUES | st.just("~|~"), max_size=3), max_size=5)


@settings(max_examples=200, deadline=None)
@given(RECORDS)
def test_batched_records_match_one_by_one(values: list[dict[str, Any]]) -> None:
    """sub_records (one serialisation and one pass per pattern for the batch) is sub_bytes per value."""
    sort = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    expected = [PROD.sub_bytes(orjson.dumps(v, option=sort)) for v in values]
    assert PROD.sub_records(values) == expected
    assert PROD.sub_records(values, chunk=2) == expected
    odd = Placeholders(["prod", "a|b"], ["111111111111"])  # a token that could touch the separator
    assert odd.sub_records(values) == [odd.sub_bytes(orjson.dumps(v, option=sort)) for v in values]
    unsorted = orjson.OPT_NON_STR_KEYS
    assert serialize_records(values, chunk=2) == [orjson.dumps(v, option=unsorted) for v in values]
    one_by_one = [PROD.sub_bytes(orjson.dumps(v, option=unsorted)) for v in values]
    assert PROD.sub_records(values, sort_keys=False) == one_by_one
    assert PROD.sub_serialized(serialize_records(values)) == PROD.sub_records(values, sort_keys=False)


EDGY = Placeholders(["nprod", "prod", "Stg", "t1", "x"], ["111111111111"])
EDGY_ONE_PASS = Placeholders(["nprod", "prod", "Stg", "t1", "x"], ["111111111111"])
EDGY_ONE_PASS._tok_groups = None  # the reference: one pass over every spelling present
EDGY_TEXT = st.lists(
    st.sampled_from(
        ["nprod", "NPROD", "Nprod", "prod", "PROD", "stg", "STG", "T1", "t1", "x", "X", "\n", "\\", "-", "a"]
    ),
    max_size=10,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(EDGY_TEXT, max_size=4))
def test_token_passes_per_case_agree_with_one_alternation(texts: list[str]) -> None:
    """One token pass per case group gives exactly what one pass over all spellings gives."""
    raw = orjson.dumps(texts)
    assert EDGY.sub_bytes(raw) == EDGY_ONE_PASS.sub_bytes(raw)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT | EDGY_TEXT | st.sampled_from([":111111111111", "111111111111", "x-sg-0123abcd", '"', "\n"])))
def test_batched_strings_match_one_by_one(strings: list[str]) -> None:
    """sub_strs (one pass per pattern over all names) is sub_str per name, whatever the names hold."""
    for ph in (PROD, EDGY):
        assert ph.sub_strs(strings) == [ph.sub_str(s) for s in strings]


REGION_TEXT = st.lists(
    st.sampled_from(
        ["eu-west-1", "eu-west-1a", "us-gov-west-1", "us-east-2", "ap-southeast-1", "xeu-west-1", "eu-west-12",
         "-west-1", "ca-central-1", " ", "-", "a", "1", "\\n", ":", "prod"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(REGION_TEXT, min_size=1, max_size=6))
def test_regions_remembered_across_buffers_substitute_what_a_fresh_look_does(texts: list[str]) -> None:
    """One instance over many buffers (regions learnt from earlier ones substituted first) gives what a
    fresh instance gives on each buffer alone."""
    ph = Placeholders(["prod"], ["111111111111"])
    for text in texts:
        data = orjson.dumps({"v": text})
        assert ph.sub_bytes(data) == Placeholders(["prod"], ["111111111111"]).sub_bytes(data)
