"""The terraform-plan source: `terraform show -json` output read as a declared and a refreshed snapshot.

The fixtures under tests/data/terraform are modelled on real Terraform 1.5 output of a refresh-only plan
(``resource_drift`` with an update and a delete, ``prior_state`` with modules and a data source) and of a
plan from an empty state (no ``prior_state``).
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.config import TerraformPlanSource
from parity.errors import InputError
from parity.model import Resource, Snapshot
from parity.redact import Redactor
from parity.registry import CollectContext, source_kinds
from parity.sources.terraform.plan import collect_plan

DATA = Path(__file__).parent / "data" / "terraform"
DRIFT = DATA / "refresh_only_drift.json"
NO_PRIOR = DATA / "plan_no_prior_state.json"


def fixture(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data, indent=2).encode())
    return path


def collect(base: Path, path: str | list[str], redactor: Redactor) -> list[Snapshot]:
    ctx = CollectContext(
        environment="staging", source_name="plan", base_dir=base, redactor=redactor, role="declared", tokens={}
    )
    return list(collect_plan(TerraformPlanSource(kind="terraform-plan", path=path), ctx))


def by_key(snap: Snapshot) -> dict[str, Resource]:
    out = {r.key: r for r in snap.resources}
    assert len(out) == len(snap.resources)
    return out


def managed_addresses(values: dict[str, Any]) -> set[str]:
    """Every managed address in a plan ``values`` block, read straight from the fixture."""
    out: set[str] = set()
    todo = [values["root_module"]]
    while todo:
        mod = todo.pop()
        out |= {r["address"] for r in mod.get("resources", []) if r["mode"] == "managed"}
        todo.extend(mod.get("child_modules", []))
    return out


@pytest.fixture
def drift_snaps(tmp_path: Path, redactor: Redactor) -> tuple[Snapshot, Snapshot]:
    shutil.copy(DRIFT, tmp_path / "plan.json")
    declared, live = collect(tmp_path, "plan.json", redactor)
    return declared, live


def test_terraform_plan_is_registered() -> None:
    assert source_kinds()["terraform-plan"].collect is collect_plan


def test_a_refresh_only_plan_gives_a_declared_and_a_live_snapshot(drift_snaps: tuple[Snapshot, Snapshot]) -> None:
    declared, live = drift_snaps
    assert (declared.source, declared.role, declared.kind) == ("plan", "declared", "terraform-plan")
    assert (live.source, live.role, live.kind) == ("plan:refreshed", "live", "terraform-plan")
    assert declared.environment == live.environment == "staging"
    assert declared.coverage.listed == live.coverage.listed == ("plan.json",)
    assert live.coverage.complete

    plan = fixture(DRIFT)
    refreshed = managed_addresses(plan["prior_state"]["values"])
    deleted = {d["address"] for d in plan["resource_drift"] if d["change"]["after"] is None}
    assert deleted and not deleted & refreshed
    assert set(by_key(live)) == refreshed  # the data source is skipped
    assert set(by_key(declared)) == refreshed | deleted
    for snap in (declared, live):
        for r in snap.resources:
            assert r.key == r.address
            assert r.owner == "terraform"
            assert r.origin == "terraform-plan:plan.json"


def test_declared_differs_from_live_in_exactly_the_drifted_attributes(
    drift_snaps: tuple[Snapshot, Snapshot],
) -> None:
    declared, live = by_key(drift_snaps[0]), by_key(drift_snaps[1])
    plan = fixture(DRIFT)
    expected: dict[str, set[str]] = {}
    for d in plan["resource_drift"]:
        before, after = d["change"]["before"], d["change"]["after"]
        if after is not None:
            expected[d["address"]] = {k for k in before if before[k] != after[k]}
    got = {
        key: {k for k in declared[key].attributes if declared[key].attributes[k] != live[key].attributes.get(k)}
        for key in live
    }
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    logs_before = next(d for d in plan["resource_drift"] if d["address"] == "aws_s3_bucket.logs")["change"]["before"]
    assert declared["aws_s3_bucket.logs"].tags == logs_before["tags"]
    assert live["aws_s3_bucket.logs"].tags != logs_before["tags"]


def test_resource_fields_in_a_plan(drift_snaps: tuple[Snapshot, Snapshot]) -> None:
    declared, live = by_key(drift_snaps[0]), by_key(drift_snaps[1])
    eu = declared['aws_sqs_queue.jobs["eu"]']
    assert (eu.type, eu.name) == ("aws_sqs_queue", "jobs-eu")
    assert eu.id == "https://sqs.eu-west-1.amazonaws.com/111111111111/jobs-eu"
    db = live["module.db.aws_db_instance.main"]
    assert (db.id, db.name) == ("db-ABCDEF123", "orders-staging")
    pg = live["module.db.module.params[0].aws_db_parameter_group.pg"]
    assert pg.name == "orders-staging-pg"
    role = live["aws_iam_role.app"]
    assert role.tags == {}
    assert isinstance(role.attributes["assume_role_policy"], str)  # JSON strings stay strings


def test_sensitive_values_are_redacted_on_both_sides(
    drift_snaps: tuple[Snapshot, Snapshot], redactor: Redactor
) -> None:
    declared, live = drift_snaps
    for snap in (declared, live):
        db = by_key(snap)["module.db.aws_db_instance.main"]
        assert "db-pass-before-drift" not in repr(db)
        assert db.attributes["password"] == redactor.redact("db-pass-before-drift")


def test_a_plan_without_prior_state_gives_only_declared_from_planned_values(tmp_path: Path, redactor: Redactor) -> None:
    shutil.copy(NO_PRIOR, tmp_path / "plan.json")
    (declared,) = collect(tmp_path, "plan.json", redactor)
    assert declared.role == "declared" and declared.source == "plan"
    got = by_key(declared)
    assert set(got) == managed_addresses(fixture(NO_PRIOR)["planned_values"])
    secret = got["aws_secretsmanager_secret_version.api[0]"]
    text = repr(secret)
    assert "plan-secret-string-value" not in text and "plan-nested-secret" not in text
    assert secret.attributes["secret_string"] == redactor.redact("plan-secret-string-value")
    assert secret.attributes["extra"] == {"nested": ["visible", redactor.redact("plan-nested-secret")]}
    assert secret.attributes["secret_binary"] is None
    assets = got["aws_s3_bucket.assets"]
    assert assets.id == "aws_s3_bucket.assets"  # the id is unknown until apply
    assert (assets.name, assets.tags) == ("acme-assets-production", {"Name": "assets"})


def test_a_mismatched_sensitive_mirror_redacts_the_whole_value(tmp_path: Path, redactor: Redactor) -> None:
    plan = fixture(NO_PRIOR)
    res = plan["planned_values"]["root_module"]["resources"][1]
    res["values"]["cors"] = "cors-secret-as-string"
    res["sensitive_values"]["cors"] = [True]
    write(tmp_path / "plan.json", plan)
    (declared,) = collect(tmp_path, "plan.json", redactor)
    assert by_key(declared)["aws_s3_bucket.assets"].attributes["cors"] == redactor.redact("cors-secret-as-string")


@pytest.mark.parametrize("mirror", [["bogus"], "bogus", [True]])
def test_a_sensitive_mirror_of_the_wrong_shape_redacts_every_value(
    tmp_path: Path, redactor: Redactor, mirror: object
) -> None:
    plan = fixture(NO_PRIOR)
    res = plan["planned_values"]["root_module"]["resources"][1]
    res["sensitive_values"] = mirror
    write(tmp_path / "plan.json", plan)
    (declared,) = collect(tmp_path, "plan.json", redactor)
    attrs = by_key(declared)["aws_s3_bucket.assets"].attributes
    assert "acme-assets-production" not in repr(attrs)
    assert attrs["bucket"] == redactor.redact("acme-assets-production")


def test_an_address_in_two_plans_keeps_one_key_in_both_snapshots(tmp_path: Path, redactor: Redactor) -> None:
    shutil.copy(DRIFT, tmp_path / "a.json")
    other = fixture(DRIFT)
    # In b.json, jobs["eu"] still exists: no drift for it, present in the refreshed state.
    other["resource_drift"] = [d for d in other["resource_drift"] if d["address"] != 'aws_sqs_queue.jobs["eu"]']
    eu = copy.deepcopy(other["prior_state"]["values"]["root_module"]["resources"][3])
    eu.update(address='aws_sqs_queue.jobs["eu"]', index="eu")
    other["prior_state"]["values"]["root_module"]["resources"].append(eu)
    write(tmp_path / "b.json", other)
    declared, live = collect(tmp_path, ["a.json", "b.json"], redactor)
    eu_key_a = 'a.json#aws_sqs_queue.jobs["eu"]'
    assert eu_key_a in by_key(declared) and eu_key_a not in by_key(live)
    assert 'b.json#aws_sqs_queue.jobs["eu"]' in by_key(live)
    assert all("#" in r.key for s in (declared, live) for r in s.resources)


def test_a_plan_without_prior_state_beside_one_with_it_is_a_coverage_gap(tmp_path: Path, redactor: Redactor) -> None:
    shutil.copy(DRIFT, tmp_path / "a.json")
    shutil.copy(NO_PRIOR, tmp_path / "b.json")
    declared, live = collect(tmp_path, "*.json", redactor)
    assert declared.coverage.listed == ("a.json", "b.json")
    assert live.coverage.listed == ("a.json",)
    assert [g.scope for g in live.coverage.gaps] == ["b.json"]
    assert not live.coverage.complete


# Errors -------------------------------------------------------------------------------------------------


def plan_error(tmp_path: Path, data: Any, redactor: Redactor) -> InputError:
    write(tmp_path / "plan.json", data)
    with pytest.raises(InputError) as e:
        collect(tmp_path, "plan.json", redactor)
    assert e.value.file == "plan.json"
    return e.value


def test_malformed_json_names_the_line(tmp_path: Path, redactor: Redactor) -> None:
    err = plan_error(tmp_path, b'{\n  "format_version": "1.2",\n  "prior_state": {,}\n}', redactor)
    assert err.line == 3 and err.column is not None


def test_missing_format_version_is_not_plan_output(tmp_path: Path, redactor: Redactor) -> None:
    plan = fixture(DRIFT)
    del plan["format_version"]
    assert "is not `terraform show -json` plan output" in plan_error(tmp_path, plan, redactor).message
    state = {"version": 4, "terraform_version": "1.5.7", "resources": []}
    assert "terraform-state" in plan_error(tmp_path, state, redactor).message
    assert "plan output" in plan_error(tmp_path, [1, 2], redactor).message


def test_an_unknown_format_version_is_refused(tmp_path: Path, redactor: Redactor) -> None:
    plan = fixture(DRIFT) | {"format_version": "2.0"}
    assert "format_version '2.0'" in plan_error(tmp_path, plan, redactor).message


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    plan = fixture(DRIFT)
    node: Any = plan
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return plan


ROOT = ("prior_state", "values", "root_module")


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        (_with(("prior_state",), []), ["prior_state"]),
        (_with(("resource_drift",), {}), ["resource_drift"]),
        (_with(("resource_drift", 0), 7), ["resource_drift[0]"]),
        (_with(("resource_drift", 0, "change"), None), ["aws_s3_bucket.logs", "change"]),
        (_with(("resource_drift", 0, "change", "before"), [1]), ["aws_s3_bucket.logs", "values"]),
        (_with((*ROOT, "resources"), "x"), ["root_module.resources"]),
        (_with((*ROOT, "child_modules"), {}), ["child_modules"]),
        (_with((*ROOT, "child_modules", 0), None), ["child_modules[0]"]),
        (_with((*ROOT, "resources", 1, "values"), ["a"]), ["aws_iam_role.app", "values"]),
        (_with((*ROOT, "resources", 1, "type"), None), ["resources[1]", "type"]),
        (_with((*ROOT, "resources", 1, "mode"), "other"), ["mode"]),
        (_with((*ROOT, "resources", 2, "address"), "aws_iam_role.app"), ["aws_iam_role.app", "twice"]),
        (_with((*ROOT, "resources", 1, "sensitive_values"), {"x": 1}), None),
        ({"format_version": "1.0"}, ["neither prior_state nor planned_values"]),
    ],
)
def test_plans_of_the_wrong_shape_are_clear_input_errors(
    tmp_path: Path, redactor: Redactor, plan: dict[str, Any], words: list[str] | None
) -> None:
    write(tmp_path / "plan.json", plan)
    if words is None:  # harmless oddities load
        collect(tmp_path, "plan.json", redactor)
        return
    err = plan_error(tmp_path, plan, redactor)
    for w in words:
        assert w in err.message, err.message


def test_an_address_is_rebuilt_when_a_tool_dropped_it(tmp_path: Path, redactor: Redactor) -> None:
    plan = fixture(DRIFT)
    child = plan["prior_state"]["values"]["root_module"]["child_modules"][0]
    del child["resources"][0]["address"]
    child["resources"][0]["module_address"] = "module.db"
    write(tmp_path / "plan.json", plan)
    _, live = collect(tmp_path, "plan.json", redactor)
    assert "module.db.aws_db_instance.main" in by_key(live)


_SCRATCH = Path(tempfile.mkdtemp(prefix="parity-tfplan-"))
_KEY = Redactor(b"parity-tests-fixed-key-0123456789")
_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=6)
_names = st.sampled_from(
    ["format_version", "prior_state", "values", "root_module", "resources", "child_modules", "resource_drift",
     "change", "before", "after", "before_sensitive", "sensitive_values", "address", "mode", "type", "name",
     "index", "planned_values", "tags", "id"]
)  # fmt: skip
_shaped = st.recursive(
    _leaf | st.sampled_from(["1.2", "managed", "data", "aws_vpc", "main"]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_names, kids, max_size=6),
    max_leaves=40,
)


_resource = st.fixed_dictionaries(
    {"address": st.sampled_from(["aws_vpc.main", "aws_vpc.b[0]"]), "mode": st.sampled_from(["managed", "data"]),
     "type": st.just("aws_vpc"), "name": st.just("main")},
    optional={"values": _shaped, "sensitive_values": _shaped, "index": _leaf},
)  # fmt: skip
_module = st.dictionaries(st.sampled_from(["resources", "child_modules", "address"]), st.lists(_resource | _shaped))
_plans = st.builds(
    lambda root, drift, extra: (
        {"format_version": "1.2", "prior_state": {"values": {"root_module": root}}} | {"resource_drift": drift} | extra
    ),
    _module,
    st.lists(_resource.map(lambda r: {**r, "change": {"before": r.get("values"), "after": None}}) | _shaped),
    st.dictionaries(_names, _shaped, max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_shaped | _plans)
def test_any_plan_shaped_input_loads_or_is_an_input_error(value: Any) -> None:
    if isinstance(value, dict) and "format_version" in value:
        value["format_version"] = "1.2"
    (_SCRATCH / "plan.json").write_bytes(orjson.dumps(value))
    try:
        snaps = collect(_SCRATCH, "plan.json", _KEY)
    except InputError as e:
        assert e.file == "plan.json"
        return
    assert [s.role for s in snaps] in (["declared"], ["declared", "live"])
