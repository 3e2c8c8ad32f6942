"""The terraform-state source reading each resource by itself and canonicalising it as soon as read
(``read_state_file`` with ``canonical``, what ``parity scan`` does) gives exactly what reading the file whole
and canonicalising afterwards gives: the same resources, and for a broken file the same error."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS
from parity.errors import InputError
from parity.model import Resource
from parity.normalize import canonical_attributes, canonical_resource, default_kb
from parity.normalize.native import compiled
from parity.redact import Redactor
from parity.sources.terraform.common import Instance, assign_keys, load_json, to_resource
from parity.sources.terraform.state import read_state, read_state_file

STATES = sorted((CORPUS / "terraform-states").glob("*/terraform.tfstate"))
_on_read = functools.partial(canonical_attributes, kb=default_kb())


def _resources(insts: list[Instance], shown: str) -> list[Resource]:
    keys = assign_keys([(shown, (i.address for i in insts))])
    return [to_resource(i, keys[(shown, i.address)], "terraform-state") for i in insts]


def _whole(path: Path, shown: str, redactor: Redactor) -> list[Resource] | str:
    """The reading before: the file parsed whole, each resource canonicalised afterwards (or the error)."""
    try:
        insts = read_state(load_json(path, shown), shown, redactor)
    except InputError as e:
        return str(e)
    return [canonical_resource(r) for r in _resources(insts, shown)]


def _by_items(path: Path, shown: str, redactor: Redactor) -> list[Resource] | str:
    try:
        insts = read_state_file(path, shown, redactor, _on_read)
    except InputError as e:
        return str(e)
    return _resources(insts, shown)


def _same(a: list[Resource] | str, b: list[Resource] | str) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    assert a == b
    # equal dicts still tell 1, 1.0 and True apart in JSON, as the canonical form does
    assert [orjson.dumps(r.attributes) for r in a] == [orjson.dumps(r.attributes) for r in b]


@pytest.mark.skipif(not STATES, reason=f"corpus not found at {CORPUS}")
def test_every_corpus_state_reads_the_same_by_items(redactor: Redactor) -> None:
    for path in STATES:
        _same(_by_items(path, path.parent.name, redactor), _whole(path, path.parent.name, redactor))


_text = st.lists(st.sampled_from(["a", "b", "-", "staging", "\\", '"', "é", "{", "[", " "]), max_size=5).map("".join)
# JSON held in a string is parsed by the canonical walk: an id or name written so is picked as read
_odd = st.sampled_from([1.0, 0.0, -0.0, 2.5, '{"k": 1}', "[2]"])
_leaf = st.none() | st.booleans() | st.integers(-5, 5) | _odd | _text
_attr_values = st.recursive(
    _leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3), max_leaves=12
)
_policy = st.builds(
    lambda a: json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": a, "Resource": "*"}]}),
    st.lists(st.sampled_from(["s3:GetObject", "s3:*", "sqs:SendMessage"]), max_size=3),
)


@st.composite
def _states(draw: st.DrawFn) -> dict[str, Any]:
    resources = []
    for n in range(draw(st.integers(0, 5))):
        type_ = draw(st.sampled_from(["aws_s3_bucket", "aws_iam_role", "aws_security_group", "aws_alb", "null_thing"]))
        instances = []
        for k in range(draw(st.integers(0, 3))):
            attrs = draw(st.dictionaries(st.sampled_from(["id", "name", "arn", "tags", "x", "ingress"]), _attr_values))
            if draw(st.booleans()):
                attrs["policy"] = draw(_policy)
            inst: dict[str, Any] = {"schema_version": 0, "attributes": attrs}
            if draw(st.booleans()):
                inst["index_key"] = k
            instances.append(inst)
        res = {"mode": draw(st.sampled_from(["managed", "managed", "data"])), "type": type_, "name": f"r{n}"}
        res["provider"] = 'provider["registry.terraform.io/hashicorp/aws"]'
        res["instances"] = instances
        if draw(st.booleans()):
            res["module"] = "module.m"
        resources.append(res)
    header = {"version": 4, "terraform_version": "1.5.7", "serial": 1, "lineage": "l", "outputs": {}}
    return {**header, "resources": resources}


def _layout(state: dict[str, Any], style: int) -> bytes:
    if style == 0:
        return orjson.dumps(state)
    if style == 1:
        return orjson.dumps(state, option=orjson.OPT_INDENT_2)
    return json.dumps(state, indent="\t", ensure_ascii=True).encode()


@given(state=_states(), style=st.integers(0, 2), data=st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_states_and_broken_ones_read_the_same(
    state: dict[str, Any], style: int, data: st.DataObject, redactor: Redactor, tmp_path: Path
) -> None:
    doc = _layout(state, style)
    if data.draw(st.booleans()):  # broken: a cut, a character put in, or a duplicated "resources"
        how = data.draw(st.integers(0, 2))
        at = data.draw(st.integers(0, len(doc)))
        if how == 0:
            doc = doc[:at]
        elif how == 1:
            doc = doc[:at] + data.draw(st.sampled_from([b"}", b"]", b",", b'"', b"x", b"[", b"\\"])) + doc[at:]
        else:
            doc = doc[:-1] + b', "resources": []}'
    path = tmp_path / "terraform.tfstate"
    path.write_bytes(doc)
    _same(_by_items(path, "s.tfstate", redactor), _whole(path, "s.tfstate", redactor))


@pytest.mark.skipif(compiled() is None, reason="the split is compiled (_cwalk.c); not built here")
def test_a_state_is_read_item_by_item(redactor: Redactor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path above is the split one (not the whole parse by a fallback): a whole parse would fail here."""
    from parity.sources.terraform import state as mod

    path = tmp_path / "terraform.tfstate"
    resources = [{"type": "aws_s3_bucket", "name": "b", "instances": []}]
    body = {"version": 4, "terraform_version": "1.5.7", "resources": resources}
    path.write_bytes(orjson.dumps(body))

    def no_whole(*args: Any) -> Any:
        raise AssertionError("parsed whole")

    monkeypatch.setattr(mod, "load_json", no_whole)
    monkeypatch.setattr(mod, "parse_json_text", no_whole)
    assert read_state_file(path, "s", redactor, _on_read) == []


def test_id_and_name_are_picked_as_read(redactor: Redactor, tmp_path: Path) -> None:
    """The canonical walk parses JSON held in a string; the id and name are picked before it, as before."""
    attrs = {"id": '{"k": 1}', "bucket": "[2]", "tags": {"Name": "n"}}
    body = {
        "version": 4,
        "terraform_version": "1.5.7",
        "resources": [{"type": "aws_s3_bucket", "name": "b", "instances": [{"attributes": attrs}]}],
    }
    path = tmp_path / "terraform.tfstate"
    path.write_bytes(orjson.dumps(body))
    got = _by_items(path, "s", redactor)
    _same(got, _whole(path, "s", redactor))
    assert not isinstance(got, str) and (got[0].id, got[0].name) == ('{"k": 1}', "[2]")
