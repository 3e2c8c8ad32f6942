"""parity.serialize.json_bytes: the bytes orjson writes with OPT_NON_STR_KEYS, whatever the keys."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.serialize import canonical_json, json_bytes

KEYS = st.text(max_size=4) | st.integers(-3, 3) | st.booleans() | st.none()
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(KEYS, kids, max_size=3),
    max_leaves=12,
)


@given(VALUES, st.booleans())
def test_json_bytes_writes_what_orjson_writes_with_non_str_keys(value: Any, sort_keys: bool) -> None:
    opt = orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        want = orjson.dumps(value, option=opt)
    except TypeError:  # (several keys writing as one, sorted: orjson refuses to order them)
        with pytest.raises(TypeError):
            json_bytes(value, sort_keys)
        return
    assert json_bytes(value, sort_keys) == want
    if sort_keys:
        assert canonical_json(value) == want


def test_what_orjson_cannot_write_is_still_an_error() -> None:
    with pytest.raises(TypeError):
        json_bytes({"a": 2**64})
    with pytest.raises(TypeError):
        json_bytes({"a": object()}, sort_keys=True)
