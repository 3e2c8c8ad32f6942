"""parity.jsonitems: a document read item by item is the document read whole, and nothing more is accepted."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.jsonitems import array_items, member_spans
from parity.normalize.native import compiled

pytestmark = pytest.mark.skipif(compiled() is None, reason="the split is compiled (_cwalk.c); not built here")

_text = st.text(alphabet=st.sampled_from(['"', "\\", ",", "]", "[", "{", "}", ":", "a", "é", "\n", " ", "\u2028"]))
_floats = st.floats(allow_nan=False, allow_infinity=False)
_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | _floats | _text
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


def _write(value: Any, style: int) -> bytes:
    """``value`` as JSON in one of several layouts (compact, indented, spaced, with non-ASCII escaped)."""
    if style == 0:
        return orjson.dumps(value)
    if style == 1:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2)
    if style == 2:
        return json.dumps(value, separators=(" , ", " : ")).encode()
    return (" \n\t" + json.dumps(value, ensure_ascii=True, indent="\t") + "\r\n ").encode()


def _same(a: Any, b: Any) -> bool:
    """Equal with types told apart (1, 1.0 and True), as the canonical form tells them apart."""
    return orjson.dumps(a) == orjson.dumps(b)


@given(st.lists(_values, max_size=6), st.integers(0, 3))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_items_are_the_whole_parse(value: list[Any], style: int) -> None:
    data = _write(value, style)
    got = array_items(data)
    assert got is not None
    assert _same(list(got), orjson.loads(data))


@given(st.dictionaries(_text, _values, max_size=6), st.integers(0, 3))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_members_are_the_whole_parse(value: dict[str, Any], style: int) -> None:
    data = _write(value, style)
    members = member_spans(data)
    assert members is not None
    rebuilt = {orjson.loads(k): orjson.loads(data[s:e]) for k, s, e in members}
    assert _same(rebuilt, orjson.loads(data))


# Bytes made of JSON's structural characters and a few others: mostly broken documents, some valid.
_junk = st.lists(
    st.sampled_from(["[", "]", "{", "}", ",", ":", '"', "\\", " ", "1", "a", "true", '"x"', "\n", "[1", "]]"]),
    max_size=30,
).map(lambda parts: "".join(parts).encode())


@given(_junk | st.lists(_values).map(orjson.dumps).map(lambda b: b[: len(b) // 2 + 1]))
@settings(max_examples=1500)
def test_split_accepts_exactly_what_orjson_reads(data: bytes) -> None:
    try:
        whole: Any = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = ValueError
    got = array_items(data)
    if got is None:  # not split: the caller parses it whole; valid arrays are always split
        assert not isinstance(whole, list)
        return
    try:
        items = list(got)
    except orjson.JSONDecodeError as e:  # the whole document's own error, at its own place
        assert whole is ValueError
        with pytest.raises(orjson.JSONDecodeError) as raised:
            orjson.loads(data)
        assert e.pos == raised.value.pos
        return
    assert isinstance(whole, list)
    assert _same(items, whole)


@pytest.mark.parametrize("depth", [1022, 1023, 1024, 1025])
@pytest.mark.parametrize("level", [1, 3])
def test_nesting_limited_as_orjson_limits_the_whole_document(depth: int, level: int) -> None:
    item = b"[" * depth + b"]" * depth
    doc = b"[" * (level - 1) + b"[" + item + b"]" + b"]" * (level - 1)
    try:
        orjson.loads(doc)
        whole_ok = True
    except orjson.JSONDecodeError:
        whole_ok = False
    inner = doc[level - 1 : len(doc) - (level - 1)]
    got = array_items(inner, level=level)
    assert (got is not None) == whole_ok
    if got is not None:
        assert len(list(got)) == 1


def test_a_slice_of_a_document() -> None:
    doc = b'{"version": 4, "resources": [ {"a": 1}, [2] , "x,]" ], "z": null}'
    members = member_spans(doc)
    assert members is not None
    (_, s, e) = next(m for m in members if m[0] == b'"resources"')
    got = array_items(doc, 2, s, e)
    assert got is not None
    assert list(got) == orjson.loads(doc)["resources"]


def test_an_item_that_does_not_parse_raises_at_its_place() -> None:
    doc = b'[{"a": 1},\n {"b": tru}]'
    got = array_items(doc)
    assert got is not None
    with pytest.raises(orjson.JSONDecodeError) as e:
        list(got)
    assert e.value.lineno == 2


@pytest.mark.parametrize(
    "doc",
    [b"", b"  ", b"{}", b'"[1]"', b"[1,]", b"[,1]", b"[1 2", b"[1]]", b"[1] x", b'["a]', b"[}", b'{"a":1,}'],
)
def test_not_a_plain_array_is_left_to_the_whole_parse(doc: bytes) -> None:
    got = array_items(doc)
    if got is not None:  # split, but then an item fails as the whole document does
        with pytest.raises(orjson.JSONDecodeError):
            list(got)
    with pytest.raises(orjson.JSONDecodeError):
        if not isinstance(orjson.loads(doc), list):
            raise orjson.JSONDecodeError("not a list", "", 0)


def test_without_the_compiled_part_nothing_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARITY_PURE_PYTHON", "1")
    assert array_items(b"[1, 2]") is None
    assert member_spans(b'{"a": 1}') is None
