"""The terraform-state source over real state files recorded by other people (../shared/corpus).

Each ``terraform-states/<case>/terraform.tfstate`` must load, and where driftctl's own reading of it
(``results.golden.json``: a list of ``{"Id", "Type", "Attrs"}``) sits beside it, parity must find every
resource driftctl found, with the same id, and agree on the scalar attribute values driftctl kept.

Known, deliberate differences from driftctl, allowed below and nowhere else:
- driftctl invents its own ids for ``aws_security_group_rule`` and ``aws_network_acl_rule`` (a hash of the
  rule); parity keeps Terraform's id, so for those types only the count of resources is compared;
- driftctl rewrites JSON-string attributes (policies) and parity keeps them verbatim: compared as JSON;
- driftctl fills some provider defaults where the state has null (``create_default_maintainer``);
- parity redacts values under secret-looking keys, which driftctl shows.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS
from parity.config import TerraformStateSource
from parity.errors import InputError
from parity.model import Resource
from parity.redact import Redactor, is_redacted
from parity.registry import CollectContext
from parity.sources.terraform.common import TYPE_ALIASES
from parity.sources.terraform.state import collect_state

STATES_DIR = CORPUS / "terraform-states"
EDGE_DIR = CORPUS / "terraform-states-edge" / "v4"
REINVENTED_IDS = {"aws_security_group_rule", "aws_network_acl_rule"}
PLACEHOLDER = "REDACTED-BY-CORPUS-BUILDER"  # where the corpus builder removed real secrets

_ABSENT = pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {STATES_DIR}"), id="no-corpus")
CASES = [pytest.param(p, id=p.parent.name) for p in sorted(STATES_DIR.glob("*/terraform.tfstate"))] or [_ABSENT]


def read(path: Path, redactor: Redactor) -> tuple[Resource, ...]:
    ctx = CollectContext(
        environment="corpus", source_name="tf", base_dir=path.parent, redactor=redactor, role="declared", tokens={}
    )
    (snap,) = collect_state(TerraformStateSource(kind="terraform-state", path=str(path)), ctx)
    return snap.resources


def test_the_whole_corpus_is_there() -> None:
    if not STATES_DIR.is_dir():
        pytest.skip(f"corpus not found at {STATES_DIR}")
    assert len(CASES) == 147


@pytest.mark.parametrize("path", CASES)
def test_a_real_state_loads_with_every_managed_instance(path: Path, redactor: Redactor) -> None:
    resources = read(path, redactor)
    raw = json.loads(path.read_text())
    expected = []
    for r in raw.get("resources", []):
        if r.get("mode") == "data":
            continue
        base = f"{r['module']}.{r['type']}.{r['name']}" if r.get("module") else f"{r['type']}.{r['name']}"
        for i in r.get("instances", []):
            key = i.get("index_key")
            expected.append(base + ("" if key is None else f"[{json.dumps(key)}]"))
    assert sorted(r.address or "" for r in resources) == sorted(expected)
    assert len({r.key for r in resources}) == len(resources)
    for r in resources:
        assert PLACEHOLDER not in repr(r)


def _same(golden: Any, ours: Any) -> bool:
    if golden == ours or is_redacted(ours):
        return True
    if ours is None and golden in (False, 0, ""):
        return True  # a provider default driftctl filled in
    if isinstance(golden, str) and isinstance(ours, str):
        try:
            return bool(json.loads(golden) == json.loads(ours))
        except ValueError:
            return False
    return False


@pytest.mark.parametrize("path", CASES)
def test_parity_finds_what_driftctl_found(path: Path, redactor: Redactor) -> None:
    golden_file = path.parent / "results.golden.json"
    if not golden_file.exists():
        pytest.skip("no results.golden.json beside this state")
    golden = json.loads(golden_file.read_text()) or []
    for g in golden:  # driftctl keeps alias type names (aws_alb); parity gives the canonical one (aws_lb)
        g["Type"] = TYPE_ALIASES.get(g["Type"], g["Type"])
    resources = read(path, redactor)
    ours = {(r.type, r.id): r for r in resources}
    our_types = Counter(r.type for r in resources)
    for t, n in Counter(g["Type"] for g in golden).items():
        assert our_types[t] >= n, f"driftctl found {n} {t}, parity {our_types[t]}"
    compared = 0
    for g in golden:
        if g["Type"] in REINVENTED_IDS:
            continue
        r = ours.get((g["Type"], g["Id"]))
        assert r is not None, f"{g['Type']} {g['Id']} not read"
        for k, v in (g.get("Attrs") or {}).items():
            if isinstance(v, str | bool | int | float) and k in r.attributes:
                assert _same(v, r.attributes[k]), f"{r.address}: {k}"
                compared += 1
    if any(g["Type"] not in REINVENTED_IDS and g.get("Attrs") for g in golden):
        assert compared > 0  # the comparison looked at something


EDGE_PRESENT = EDGE_DIR.is_dir()
needs_edge = pytest.mark.skipif(not EDGE_PRESENT, reason=f"corpus not found at {EDGE_DIR}")


@needs_edge
@pytest.mark.parametrize("name", ["valid.tfstate", "supported_version.tfstate"])
def test_edge_states_that_load(name: str, redactor: Redactor) -> None:
    resources = read(EDGE_DIR / name, redactor)
    raw = json.loads((EDGE_DIR / name).read_text())
    assert len(resources) == sum(len(r["instances"]) for r in raw["resources"] if r["mode"] == "managed")


@needs_edge
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("invalid.tfstate", ["not valid JSON"]),
        ("invalid_version.tfstate", ["terraform_version", "invalid"]),
        ("unsupported_version.tfstate", ["0.10.26", "0.12"]),
    ],
)
def test_edge_states_that_are_refused(name: str, words: list[str], redactor: Redactor) -> None:
    with pytest.raises(InputError) as e:
        read(EDGE_DIR / name, redactor)
    assert e.value.file.endswith(name)
    for w in words:
        assert w in e.value.message
    if name == "invalid.tfstate":
        assert e.value.line is not None and e.value.column is not None
