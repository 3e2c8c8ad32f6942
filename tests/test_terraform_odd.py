"""Odd but valid Terraform input read the way Terraform means it (no silent misreading).

- ``for_each`` keys are quoted in addresses exactly as Terraform quotes them (``addrs.StringKey``), so
  the key a state gives a resource equals the ``address`` a plan of the same object carries;
- a plan whose prior state holds a deposed object (a create_before_destroy replacement whose destroy
  failed) is read, the deposed object skipped as the state reader skips it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.config import TerraformPlanSource, TerraformStateSource
from parity.model import Snapshot
from parity.redact import Redactor
from parity.registry import CollectContext
from parity.sources.terraform.common import _DIGITS_ONLY, _LONG_INT, _LONG_RUN, format_index
from parity.sources.terraform.plan import collect_plan
from parity.sources.terraform.state import collect_state

NULL = 'provider["registry.terraform.io/hashicorp/null"]'


def _ctx(base: Path, redactor: Redactor) -> CollectContext:
    return CollectContext(
        environment="staging", source_name="tf", base_dir=base, redactor=redactor, role="declared", tokens={}
    )


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data))


def _state(tmp_path: Path, redactor: Redactor, keys: list[str]) -> Snapshot:
    instances = [{"schema_version": 0, "index_key": k, "attributes": {"id": str(n)}} for n, k in enumerate(keys)]
    resources = [{"mode": "managed", "type": "null_resource", "name": "x", "provider": NULL, "instances": instances}]
    _write(tmp_path / "a.tfstate", {"version": 4, "terraform_version": "1.5.7", "resources": resources})
    (snap,) = collect_state(TerraformStateSource(kind="terraform-state", path="a.tfstate"), _ctx(tmp_path, redactor))
    return snap


# What Terraform writes for each key (addrs.StringKey.String -> toHCLQuotedString).
TERRAFORM_ADDRESSES = {
    "plain": 'null_resource.x["plain"]',
    'a"b': 'null_resource.x["a\\"b"]',
    "back\\slash": 'null_resource.x["back\\\\slash"]',
    "${var.x}": 'null_resource.x["$${var.x}"]',
    "%{ if x }": 'null_resource.x["%%{ if x }"]',
    "$ and % alone": 'null_resource.x["$ and % alone"]',
    "tab\there": 'null_resource.x["tab\\there"]',
    "line\nbreak": 'null_resource.x["line\\nbreak"]',
    "zero\u200bwidth": 'null_resource.x["zero\\u200bwidth"]',
    "del\x7f": 'null_resource.x["del\\u007f"]',
    "no\u00a0break": 'null_resource.x["no\\u00a0break"]',
    "café ☕ 東京": 'null_resource.x["café ☕ 東京"]',
    "a.b[c]": 'null_resource.x["a.b[c]"]',
    "": 'null_resource.x[""]',
}


@pytest.mark.parametrize("key", sorted(TERRAFORM_ADDRESSES))
def test_for_each_keys_are_quoted_as_terraform_quotes_them(tmp_path: Path, redactor: Redactor, key: str) -> None:
    (r,) = _state(tmp_path, redactor, [key]).resources
    assert r.address == TERRAFORM_ADDRESSES[key]
    assert r.key == TERRAFORM_ADDRESSES[key]


def test_plan_rebuilds_a_dropped_address_with_the_same_quoting() -> None:
    assert format_index("${x}") == '["$${x}"]'
    assert format_index("\U0001d11e") == '["\U0001d11e"]'  # printable outside the BMP: as it is
    assert format_index("\U000e0001") == '["\\U000e0001"]'  # a format character outside the BMP


def test_state_and_plan_of_one_object_share_a_key(tmp_path: Path, redactor: Redactor) -> None:
    key = "${tpl}"
    state = _state(tmp_path, redactor, [key])
    address = TERRAFORM_ADDRESSES["${var.x}"].replace("var.x", "tpl")
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.5.7",
        "prior_state": {
            "format_version": "1.0",
            "values": {
                "root_module": {
                    "resources": [
                        {
                            "address": address,
                            "mode": "managed",
                            "type": "null_resource",
                            "name": "x",
                            "index": key,
                            "values": {"id": "0"},
                        }
                    ]
                }
            },
        },
    }
    _write(tmp_path / "p.json", plan)
    declared, _live = collect_plan(TerraformPlanSource(kind="terraform-plan", path="p.json"), _ctx(tmp_path, redactor))
    assert [r.key for r in declared.resources] == [r.key for r in state.resources]


def _plan_resource(id_: str, **extra: Any) -> dict[str, Any]:
    return {
        "address": "aws_instance.web",
        "mode": "managed",
        "type": "aws_instance",
        "name": "web",
        "values": {"id": id_, "instance_type": "t3.micro"},
        **extra,
    }


def test_plan_with_a_deposed_object_reads_the_current_one(tmp_path: Path, redactor: Redactor) -> None:
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.5.7",
        "prior_state": {
            "format_version": "1.0",
            "values": {
                "root_module": {"resources": [_plan_resource("i-new"), _plan_resource("i-old", deposed_key="00000001")]}
            },
        },
        "resource_drift": [
            {
                "address": "aws_instance.web",
                "mode": "managed",
                "type": "aws_instance",
                "name": "web",
                "deposed": "00000001",
                "change": {
                    "actions": ["update"],
                    "before": {"id": "i-old", "instance_type": "t3.nano"},
                    "after": {"id": "i-old", "instance_type": "t3.micro"},
                },
            }
        ],
    }
    _write(tmp_path / "p.json", plan)
    declared, live = collect_plan(TerraformPlanSource(kind="terraform-plan", path="p.json"), _ctx(tmp_path, redactor))
    # the deposed object's drift is not the current object's: both sides hold the current object as it is
    assert [(r.key, r.id, r.attributes["instance_type"]) for r in declared.resources] == [
        ("aws_instance.web", "i-new", "t3.micro")
    ]
    assert [(r.key, r.id) for r in live.resources] == [("aws_instance.web", "i-new")]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.text("0123456789", min_size=15, max_size=21), st.sampled_from('-.eE"a ,:[]{}\u0663')),
        max_size=6,
    ).map("".join)
)
def test_the_long_integer_prefilter_never_hides_one(text: str) -> None:
    # load_json runs the exact pattern only where a translate-and-find sees 19 ASCII digits in a row; a
    # number JSON can hold is ASCII digits (the pattern's \d also takes other scripts' digits, in strings)
    m = _LONG_INT.search(text)
    if m is not None and m.group().isascii():
        assert _LONG_RUN in text.encode().translate(_DIGITS_ONLY)
