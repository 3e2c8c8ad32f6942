"""Collecting big environments in child processes (parity.parallel): the same inventories as collecting
them here, errors as one line, a dead child named, and the rules for which environments go."""

from __future__ import annotations

import datetime as dt
import os
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from parity import parallel
from parity.compare import Inventory
from parity.config import load_config
from parity.errors import ConfigError, InputError, ParityError, UsageError
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


# --- hostile situations -------------------------------------------------------------------------------------

PARENT = os.getpid()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie no one reaps, as in a container without an init, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _state(path: Path, env: str, n: int, padding: int) -> None:
    import json

    resources = [
        {"mode": "managed", "type": "aws_s3_bucket", "name": f"b{i}",
         "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
         "instances": [{"schema_version": 0, "attributes": {"id": f"{env}-{i}", "bucket": f"{env}-{i}",
                                                             "tags": {"team": "a"}, "padding": "x" * padding}}]}
        for i in range(n)
    ]  # fmt: skip
    path.write_text(json.dumps({"version": 4, "terraform_version": "1.6.0", "serial": 1, "resources": resources}))


def test_ctrl_c_stops_the_command_its_children_and_what_they_run(tmp_path: Path) -> None:
    """A real `parity diff` whose child is inside `kubectl kustomize` (a stand-in that sleeps), interrupted
    as a terminal does (SIGINT to the whole foreground group): 130, one line, and nothing left running, the
    kubectl of the child included (it inherited a child's ignoring of Ctrl-C, and outlived it)."""
    import signal
    import subprocess
    import sys
    import time

    _state(tmp_path / "staging.tfstate", "staging", 2000, 9000)  # 18 MB: collected in a child
    _state(tmp_path / "production.tfstate", "production", 20, 10)  # small: collected here
    (tmp_path / "kz").mkdir()
    (tmp_path / "kz" / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "bin").mkdir()
    kubectl = tmp_path / "bin" / "kubectl"
    kubectl.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'kubectl.pid'}\nexec sleep 60\n")
    kubectl.chmod(0o755)
    (tmp_path / "parity.yaml").write_text(
        "environments:\n"
        "  staging:\n    sources: [{kind: kubernetes-manifests, path: kz, kustomize: true},"
        " {kind: terraform-state, path: staging.tfstate}]\n"
        "  production:\n    sources: [{kind: terraform-state, path: production.tfstate}]\n"
    )
    env = dict(os.environ, PARITY_JOBS="2", PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "parity", "diff", "staging", "production", "--no-progress"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "kubectl.pid").exists() or not (tmp_path / "kubectl.pid").read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        kubectl_pid = int((tmp_path / "kubectl.pid").read_text())
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert children
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert (proc.returncode, err) == (130, "parity: interrupted\n")
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in [kubectl_pid, *children]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in [kubectl_pid, *children] if _alive(p)]


def test_ctrl_c_between_the_fork_and_the_child_ignoring_it(capfd: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C reaching a child before it ignores Ctrl-C (here: sent by multiprocessing's after-fork hooks,
    which run before the child's code): no traceback from it, no KeyboardInterrupt sent back, its answer
    as usual (a real Ctrl-C reaches this process too, which stops the children)."""
    import multiprocessing.util
    import signal

    class Trigger:
        pass

    trigger = Trigger()  # registered while it lives
    multiprocessing.util.register_after_fork(trigger, lambda _: os.kill(os.getpid(), signal.SIGINT))
    try:
        got = parallel.collect_in_processes(["a", "b"], ["b"], lambda env: _inventory(env, {"x": 1}))
    finally:
        del trigger
    assert got["b"] == _inventory("b", {"x": 1})
    assert capfd.readouterr().err == ""


class _Unpicklable(ParityError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.hint = lambda: "a lambda does not pickle"


class _RebuiltWrong(ParityError):
    def __init__(self, file: str, why: str) -> None:  # args are the formatted message: unpickling fails
        super().__init__(f"{file}: {why}")


class _RebuiltDifferently(ParityError):
    def __init__(self, name: str) -> None:  # unpickled from its message, it would say "unknown unknown x"
        super().__init__(f"unknown {name}")


@pytest.mark.parametrize(
    "error",
    [
        InputError("f.json", "broken", 3, 4),
        ConfigError("parity.yaml", "bad", 2),
        UsageError("no environment x"),
        ParityError("plain"),
        _Unpicklable("odd class"),
        _RebuiltWrong("f.json", "bad args"),
        _RebuiltDifferently("x"),
        RuntimeError("a bug"),
        KeyError("k"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_in_a_child_is_the_error_collecting_here_raises(error: Exception) -> None:
    def broken(env: str) -> Inventory:
        if env == "b":
            raise error
        return _inventory(env, {})

    with pytest.raises(type(error)) as caught:
        parallel.collect_in_processes(["a", "b"], ["b"], broken)
    assert type(caught.value) is type(error) and str(caught.value) == str(error)


def test_an_unexpected_error_in_a_child_is_the_internal_error_line(
    demo: Path, everything_goes: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Collected again here, it fails as without children: the usual line, and with PARITY_DEBUG=1 a
    traceback that reaches the reader that failed (not the place a child's exception was re-raised)."""
    from parity.cli import main
    from parity.sources.terraform import state

    real = state.read_state_file

    def reader(path: Any, shown: str, redactor: Redactor, canonical: Any = None) -> Any:
        if "staging" in shown:
            raise _Unpicklable("not from a child") if os.getpid() == PARENT else RuntimeError("a bug")
        return real(path, shown, redactor, canonical)

    monkeypatch.setattr(state, "read_state_file", reader)
    assert main(["diff", "staging", "production", "-c", str(demo / "parity.yaml"), "--no-progress"]) == 1
    assert capsys.readouterr().err == "parity: error: not from a child\n"

    class Boom(Exception):
        def __init__(self, a: str, b: str) -> None:
            super().__init__(f"{a} {b}")

    def boom(path: Any, shown: str, redactor: Redactor, canonical: Any = None) -> Any:
        if "staging" in shown:
            raise Boom("reader", "failed")
        return real(path, shown, redactor, canonical)

    monkeypatch.setattr(state, "read_state_file", boom)
    assert main(["diff", "staging", "production", "-c", str(demo / "parity.yaml"), "--no-progress"]) == 1
    assert capsys.readouterr().err == (
        "parity: internal error: Boom: reader failed (set PARITY_DEBUG=1 for the traceback)\n"
    )
    monkeypatch.setenv("PARITY_DEBUG", "1")
    with pytest.raises(Boom) as caught:
        main(["diff", "staging", "production", "-c", str(demo / "parity.yaml"), "--no-progress"])
    assert caught.traceback[-1].name == "boom"


def test_a_child_killed_in_the_middle_of_its_answer_is_named() -> None:
    import multiprocessing
    import signal
    import time

    def f(env: str) -> Inventory:
        if env == "a":  # here, while the child waits for its 20 MB answer to be read
            time.sleep(0.5)
            for p in multiprocessing.active_children():
                if p.name == "parity-collect-b":
                    os.kill(p.pid or 0, signal.SIGKILL)
            time.sleep(0.2)
        return _inventory(env, {"s": "x" * 20_000_000})

    with pytest.raises(ParityError, match=r"collecting b: its process ended without an answer \(killed by SIGKILL"):
        parallel.collect_in_processes(["a", "b"], ["b"], f)


def test_a_child_whose_parent_stopped_listening_ends_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    receive.close()  # this process gave up (an error here, Ctrl-C) before the child answered
    child = ctx.Process(target=parallel._child, args=(lambda env: _inventory(env, {}), "b", send))
    child.start()
    send.close()
    child.join(10)
    assert child.exitcode == 0
    assert capfd.readouterr().err == ""  # no BrokenPipeError traceback


def test_no_process_to_be_had_collects_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    got = parallel.collect_in_processes(["a", "b"], ["b"], lambda env: _inventory(env, {}))
    assert got == {"a": _inventory("a", {}), "b": _inventory("b", {})}


def test_parity_jobs_values(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_config(demo / "parity.yaml")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    for raw, n in (("", None), (" 2 ", 2), ("\t3\n", 3), ("1", 1), ("99999", 99999)):
        monkeypatch.setenv("PARITY_JOBS", raw)
        assert parallel.jobs() == (n or parallel.jobs())
    monkeypatch.setenv("PARITY_JOBS", "99999")  # more than there are environments: one of two goes
    assert len(parallel.plan(loaded, ["staging", "production"])) == 1
    for bad in ("0", "-1", "abc", "2.5", "²", "١", "9" * 5000, "+2"):
        monkeypatch.setenv("PARITY_JOBS", bad)
        with pytest.raises(ParityError, match="PARITY_JOBS"):  # not a ValueError from int()
            parallel.plan(loaded, ["staging", "production"])


def test_an_environment_named_twice_is_collected_once(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    loaded = load_config(demo / "parity.yaml")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("PARITY_JOBS", "4")
    assert parallel.plan(loaded, ["staging", "staging", "production"]) == ["staging"]
    assert parallel.plan(loaded, ["staging", "staging"]) == []
    calls: list[str] = []

    def counted(env: str) -> Inventory:
        calls.append(env)
        return _inventory(env, {"s": "x" * 1_000_000})  # more than a pipe holds: an unread child would wait

    got = parallel.collect_in_processes(["a", "a", "b", "b"], ["a", "a"], counted)
    assert list(got) == ["a", "b"] and calls == ["b"]
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("parity-collect-")]


def test_three_environments_duplicates_empty_and_filtered(
    tmp_path: Path, redactor: Redactor, everything_goes: None
) -> None:
    for env in ("a", "b", "c"):
        _state(tmp_path / f"{env}.tfstate", env, 30 + len(env), 10)
    (tmp_path / "parity.yaml").write_text(
        "environments:\n"
        + "".join(f"  {e}:\n    sources: [{{kind: terraform-state, path: {e}.tfstate}}]\n" for e in "abc")
        + "  empty:\n    sources: []\n"
    )
    loaded = load_config(tmp_path / "parity.yaml")
    envs = ["a", "b", "empty", "c", "b"]
    got = collect(loaded, envs, redactor)
    os.environ["PARITY_JOBS"] = "1"
    here = collect(loaded, envs, redactor)
    assert list(got) == list(here) == ["a", "b", "empty", "c"]
    assert all(_comparable(got[e]) == _comparable(here[e]) for e in got)
    os.environ["PARITY_JOBS"] = "3"
    none = collect(loaded, envs, redactor, only_kinds=frozenset({"pipeline"}))  # filtered to nothing
    assert {e: inv.snapshots for e, inv in none.items()} == {e: () for e in ["a", "b", "empty", "c"]}


class _Tags(Mapping[str, str]):
    """Tags as a mapping that is not a dict."""

    def __init__(self, d: dict[str, str]) -> None:
        self._d = d

    def __getitem__(self, k: str) -> str:
        return self._d[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Tags) and self._d == other._d

    def __hash__(self) -> int:
        return 0


def _nested(depth: int) -> Any:
    v: Any = "leaf"
    for i in range(depth):
        v = {"k": v} if i % 2 else [v]
    return v


def _depth(v: Any) -> int:
    n = 0
    while v != "leaf":
        v, n = (v["k"] if isinstance(v, dict) else v[0]), n + 1
    return n


@pytest.mark.parametrize(
    ("attributes", "tags"),
    [
        ({1: "int key", (1, 2): "tuple key", None: "none key", b"k": "bytes key"}, {"team": "a"}),
        ({"deep": _nested(3000)}, {"team": "a"}),  # deeper than marshal and pickle write
        ({"huge": "é" * 30_000_000}, {"team": "a"}),
        ({"f": lambda: 1, "s": {1, 2}}, {"team": "a"}),  # neither marshal nor pickle writes a lambda
        ({"a": 1}, types.MappingProxyType({"team": "a"})),
        ({"a": 1}, _Tags({"team": "a"})),
        (types.MappingProxyType({"a": 1}), {"team": "a"}),
    ],
    ids=["keys", "deep", "huge", "lambda", "proxy-tags", "mapping-tags", "proxy-attributes"],
)
def test_values_that_do_not_travel_come_back_equal(attributes: Any, tags: Any) -> None:
    def make(env: str) -> Inventory:
        r = Resource("t", "i", "k", attributes, tags, "src", "terraform", "n", "t.n", Location("main.tf", 3))
        when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return Inventory(env, (Snapshot(env, "src", "terraform-state", "declared", when, (r,)),))

    got = parallel.collect_in_processes(["a", "b"], ["b"], make)["b"].snapshots[0].resources[0]
    want = make("b").snapshots[0].resources[0]
    assert type(got.tags) is type(want.tags) and got.tags == want.tags
    assert type(got.attributes) is type(want.attributes)
    if "f" in attributes:
        assert got.attributes["s"] == {1, 2} and got.attributes["f"]() == 1
    elif "deep" in attributes:
        assert _depth(got.attributes["deep"]) == 3000  # == recurses too deep to compare
    else:
        assert got.attributes == want.attributes


def test_a_parent_with_busy_threads_forks_safely(capfd: pytest.CaptureFixture[str]) -> None:
    """Threads writing to stderr and holding the logging lock at the fork: children answer and end (a lock
    copied held would hang one)."""
    import logging
    import sys
    import threading
    import time

    stop = threading.Event()

    def writes() -> None:
        while not stop.is_set():
            sys.stderr.write("x" * 1000)

    def logs() -> None:
        while not stop.is_set():
            with logging.getLogger("parity.test").handlers[0].lock:  # type: ignore[union-attr]
                time.sleep(0.001)

    handler = logging.StreamHandler(sys.stderr)
    logging.getLogger("parity.test").addHandler(handler)
    threads = [threading.Thread(target=writes), threading.Thread(target=logs)]
    for t in threads:
        t.start()
    try:

        def f(env: str) -> Inventory:
            logging.getLogger("parity.test").warning("collected %s", env)
            return _inventory(env, {"x": 1})

        for _ in range(20):
            assert parallel.collect_in_processes(["a", "b"], ["b"], f)["b"] == _inventory("b", {"x": 1})
    finally:
        stop.set()
        for t in threads:
            t.join()
        logging.getLogger("parity.test").removeHandler(handler)
    assert capfd.readouterr().err.count("collected b") == 20


@pytest.mark.parametrize("command", ["scan", "diff"])
def test_reports_and_history_are_the_same_with_children(
    demo: Path, everything_goes: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    import json

    from parity.cli import main

    original = (demo / "parity.yaml").read_text()
    args = ["scan"] if command == "scan" else ["diff", "staging", "production"]
    real = parallel.collect_in_processes
    calls: list[list[str]] = []

    def spied(*a: Any, **k: Any) -> dict[str, Inventory]:
        calls.append(list(a[1]))
        return real(*a, **k)

    monkeypatch.setattr(parallel, "collect_in_processes", spied)

    def run(jobs: str) -> tuple[int, Any, Any]:
        # a store of its own each: the second scan of one store would find the drift "open", not "new"
        cfg = demo / f"parity-{jobs}.yaml"
        cfg.write_text(original.replace("sqlite:///.parity/parity.db", f"sqlite:///.parity/{jobs}.db"))
        monkeypatch.setenv("PARITY_JOBS", jobs)
        calls.clear()
        code = main([*args, "-c", str(cfg), "--format", "json", "--no-progress"])
        doc = json.loads(capsys.readouterr().out)
        assert calls == ([] if jobs == "1" else [["staging"]])
        for key in ("generated_at", "scan_id"):
            doc.pop(key)
        for f in doc["findings"]:
            for key in ("first_seen", "last_seen"):
                f.pop(key, None)
        assert main(["history", "-c", str(cfg), "--format", "json"]) == 0
        scans = json.loads(capsys.readouterr().out)
        for scan in scans:
            for key in ("id", "started_at", "finished_at"):
                scan.pop(key)
        return code, doc, scans

    here, away = run("1"), run("3")
    assert here == away and here[0] == 2
    scans = away[2]
    assert len(scans) == (1 if command == "scan" else 0)  # a diff stores nothing
    if scans:
        assert scans[0]["resources"]["production"] > 20
