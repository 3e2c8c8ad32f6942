"""Collecting big environments in child processes (parity.parallel): the same inventories as collecting
them here, errors as one line, a dead child named, and the rules for which environments go."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from parity import parallel
from parity.compare import Inventory
from parity.config import load_config
from parity.errors import InputError, ParityError
from parity.model import Location, Resource, Snapshot
from parity.pipeline import collect
from parity.redact import Redactor


def _comparable(inv: Inventory) -> list[tuple[Any, ...]]:
    # everything but the collection time, which differs between any two collections
    return [(s.environment, s.source, s.kind, s.role, s.resources, s.coverage, dict(s.facts)) for s in inv.snapshots]


@pytest.fixture
def everything_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("PARITY_JOBS", "3")


def test_children_collect_what_this_process_collects(demo: Path, redactor: Redactor, everything_goes: None) -> None:
    loaded = load_config(demo / "parity.yaml")
    assert len(parallel.plan(loaded, ["staging", "production"])) == 1  # the other, the bigger, stays here
    got = collect(loaded, ["staging", "production"], redactor)
    os.environ["PARITY_JOBS"] = "1"
    assert parallel.plan(loaded, ["staging", "production"]) == []
    here = collect(loaded, ["staging", "production"], redactor)
    assert list(got) == ["staging", "production"]
    assert _comparable(got["production"]) == _comparable(here["production"])
    assert _comparable(got["staging"]) == _comparable(here["staging"])
    assert sum(len(s.resources) for s in got["production"].snapshots) > 20


def test_an_input_error_in_a_child_is_the_same_one_line_error(
    demo: Path, redactor: Redactor, everything_goes: None
) -> None:
    (demo / "terraform" / "production" / "terraform.tfstate").write_text('{"version": 4, "resources": [}')
    loaded = load_config(demo / "parity.yaml")
    with pytest.raises(InputError) as caught:
        collect(loaded, ["staging", "production"], redactor)
    assert "terraform/production/terraform.tfstate" in str(caught.value)
    assert "not valid JSON" in str(caught.value) and caught.value.line == 1


def _inventory(env: str, attributes: dict[str, Any]) -> Inventory:
    r = Resource("t", "i", "k", attributes, {"team": "a"}, "src", "terraform", "n", "t.n", Location("main.tf", 3))
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Inventory(env, (Snapshot(env, "src", "terraform-state", "declared", when, (r,), facts={"a": ("1",)}),))


def test_values_marshal_cannot_write_travel_by_pickle() -> None:
    odd = {"when": dt.date(2026, 1, 2), "pair": (1, 2), "big": 2**70}
    got = parallel.collect_in_processes(["a", "b"], ["b"], lambda env: _inventory(env, odd))
    assert got["b"] == _inventory("b", odd)  # a tuple stays a tuple, a date a date
    plain = {"pair": (1, [2, {"x": None}]), "big": 2**70}
    assert parallel.collect_in_processes(["a", "b"], ["b"], lambda env: _inventory(env, plain))["b"] == _inventory(
        "b", plain
    )


def test_a_child_that_dies_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def dies(env: str) -> Inventory:
        if env == "b":
            os._exit(9)
        return _inventory(env, {})

    with pytest.raises(ParityError, match=r"collecting b: its process ended without an answer \(exit code 9"):
        parallel.collect_in_processes(["a", "b"], ["b"], dies)


def test_an_error_here_stops_the_children() -> None:
    def slow_or_broken(env: str) -> Inventory:
        if env == "a":
            raise InputError("a.json", "broken")
        import time

        time.sleep(30)
        return _inventory(env, {})

    with pytest.raises(InputError, match=r"a\.json: broken"):
        parallel.collect_in_processes(["a", "b"], ["b"], slow_or_broken)
    # the child was terminated, not waited for: no process of ours is left
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.name.startswith("parity-collect-")]


def test_which_environments_go(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_config(demo / "parity.yaml")
    monkeypatch.setenv("PARITY_JOBS", "4")
    assert parallel.plan(loaded, ["staging", "production"]) == []  # the demo's states are small
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    # both could go: this process keeps the one with more state to read, and sends the smaller back
    sizes = {e: (demo / "terraform" / e / "terraform.tfstate").stat().st_size for e in ("staging", "production")}
    assert parallel.plan(loaded, ["staging", "production"]) == [min(sizes, key=lambda e: sizes[e])]
    assert parallel.plan(loaded, ["staging"]) == []  # one environment: nothing to do beside it
    monkeypatch.setenv("PARITY_JOBS", "1")
    assert parallel.plan(loaded, ["staging", "production"]) == []
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("PARITY_JOBS", bad)
        with pytest.raises(ParityError, match="PARITY_JOBS"):
            parallel.plan(loaded, ["staging", "production"])


def test_an_environment_with_a_live_aws_source_is_collected_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.env").write_text("A=1\n")
    (tmp_path / "parity.yaml").write_text(
        "environments:\n"
        "  staging:\n    sources: [{kind: config, path: a.env}]\n"
        "  production:\n    sources: [{kind: config, path: a.env}, {kind: aws, regions: [eu-west-1]}]\n"
        "  dev:\n    sources: [{kind: config, path: a.env}]\n"
    )
    loaded = load_config(tmp_path / "parity.yaml")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("PARITY_JOBS", "4")
    assert parallel.plan(loaded, ["staging", "production", "dev"]) == ["staging", "dev"]  # production stays
    # only the config sources asked for (as `parity pipeline` asks for its kind): production may go too, and
    # one of the three stays here
    assert len(parallel.plan(loaded, ["staging", "production", "dev"], frozenset({"config"}))) == 2
    monkeypatch.setenv("PARITY_JOBS", "2")  # this process and one child
    assert parallel.plan(loaded, ["staging", "production", "dev"]) == ["staging"]
