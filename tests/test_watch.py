"""`parity watch` as a real process on a copy of greenflash: restart in the middle of alerting (each alert
arrives once), SIGTERM during a scan (whole scans only), two watchers on one store (never two scans of one
environment at once), a failing source (recorded, the watch goes on), and the metrics endpoint over HTTP.

Every wait is bounded; every process gets SIGTERM and a wait with a timeout (killed if it hangs)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from alert_helpers import webhook_receiver
from parity.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"
EXE = Path(sys.executable).parent / "parity"
SOURCES = 9  # greenflash: 4 sources in staging, 5 in production


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    d = tmp_path / "greenflash"
    shutil.copytree(EXAMPLE, d)
    return d


def configure(demo: Path, extra: str) -> Path:
    cfg = demo / "parity.yaml"
    cfg.write_text(cfg.read_text() + "\n" + extra)
    return cfg


def slow_down(demo: Path, files: int = 500) -> None:
    """Make a scan take a couple of seconds: many config files only production has."""
    bulk = demo / "config" / "production" / "bulk"
    bulk.mkdir()
    for i in range(files):
        (bulk / f"svc-{i:04d}.yaml").write_text(f"name: svc-{i}\nreplicas: {i % 5}\nimage: registry/x:{i}\n")


def wait_for(pred: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Proc:
    def __init__(self, cfg: Path, log: Path, *args: str) -> None:
        self.log = log
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}  # SIGABRT dumps every thread
        env.pop("PARITY_DEBUG", None)
        with log.open("w") as err:
            self.p = subprocess.Popen(
                [str(EXE), "watch", "-c", str(cfg), *args], stdout=subprocess.DEVNULL, stderr=err, env=env
            )

    def text(self) -> str:
        return self.log.read_text()

    def stop(self, timeout: float = 30) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.send_signal(signal.SIGABRT)  # the log then shows where it hung
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)
            raise AssertionError(f"parity watch did not stop on SIGTERM:\n{self.text()}") from None


@contextmanager
def watching(cfg: Path, log: Path, *args: str) -> Iterator[Proc]:
    proc = Proc(cfg, log, *args)
    try:
        yield proc
    finally:
        if proc.p.poll() is None:
            proc.p.kill()
            proc.p.wait(timeout=10)


def open_store(demo: Path) -> Store:
    return Store(f"sqlite:///{demo / '.parity' / 'parity.db'}")


def lease_held(demo: Path) -> bool:
    """True while a watcher holds an environment's lease (from just before a scan until just after it)."""
    if not (demo / ".parity" / "parity.db").exists():
        return False
    from parity.store.tables import watch_leases

    with open_store(demo) as store, store._read() as conn:
        return conn.execute(watch_leases.select().where(watch_leases.c.holder.is_not(None))).first() is not None


def assert_whole_scans(demo: Path) -> int:
    """Every recorded scan has every source's snapshot and its finding counts; no lease is left held."""
    with open_store(demo) as store:
        infos = store.scans(limit=100)
        for s in infos:
            assert len(store.snapshots(s.id)) == SOURCES, f"scan {s.id} is partial"
            assert s.findings, f"scan {s.id} has no finding counts"
        with store._read() as conn:  # the leases: none held after a clean stop
            from parity.store.tables import watch_leases

            held = conn.execute(watch_leases.select().where(watch_leases.c.holder.is_not(None))).all()
        assert held == []
        return len(infos)


def test_restart_in_the_middle_of_alerting_sends_each_alert_once(demo: Path, tmp_path: Path) -> None:
    with webhook_receiver(fail_first=3) as hook:
        cfg = configure(
            demo,
            "watch: {default: {every: 1h}}\n"
            f"alerts:\n  - {{kind: webhook, url: '{hook.url}/hook', backoff: 0.3s, max_attempts: 50}}\n",
        )
        with watching(cfg, tmp_path / "w1.log") as w:
            wait_for(lambda: len(hook.failed()) >= 2, 30, "two failed deliveries")
            assert w.stop() == 0
        assert hook.accepted() == []
        assert "stopped" in w.text()
        with open_store(demo) as store:
            [entry] = store.alerts()
            assert entry.state == "pending" and entry.attempts >= 2
        # a planted change, and the watcher back: the old alert first, then the new scan's, each once
        (demo / "config" / "production" / "planted-flags.yaml").write_text("flag: on\n")
        with watching(cfg, tmp_path / "w2.log", "--once") as w2:
            assert w2.p.wait(timeout=60) == 0, w2.text()
        got = [r.json() for r in hook.accepted("/hook")]
        assert [d["scan_id"] for d in got] == [1, 2], w2.text()
        assert any("planted-flags" in f["key"] for f in got[1]["findings"])
        assert {f["status"] for f in got[1]["findings"]} == {"new"}
        with open_store(demo) as store:
            assert [e.state for e in store.alerts()] == ["sent", "sent"]
        assert "Traceback" not in w.text() + w2.text()


def test_sigterm_during_a_scan_leaves_whole_scans(demo: Path, tmp_path: Path) -> None:
    slow_down(demo)
    cfg = configure(demo, "watch: {default: {every: 1s}}\n")
    for i in range(2):
        with watching(cfg, tmp_path / f"w{i}.log") as w:
            wait_for(lambda w=w: "watching" in w.text(), 30, "the watcher to start")
            if i == 0:  # stop in the middle of the first scan: its leases are held while it runs
                wait_for(lambda: lease_held(demo), 30, "the first scan to start")
            else:  # stop wherever the watcher is, between scans or in one
                time.sleep(1.3)
            assert w.stop() == 0, w.text()
        assert "Traceback" not in w.text()
        if i == 0:  # the scan was abandoned, nothing of it stored
            assert "abandoned" in w.text()
        assert_whole_scans(demo)
    # the store is sound: a plain scan records on top of it
    code = subprocess.run([str(EXE), "scan", "-c", str(cfg), "--no-progress", "-f", "json"], capture_output=True,
                          timeout=120).returncode  # fmt: skip
    assert code == 2
    assert assert_whole_scans(demo) >= 1


def test_two_watchers_never_scan_one_environment_at_once(demo: Path, tmp_path: Path) -> None:
    slow_down(demo, 300)
    cfg = configure(demo, "watch: {default: {every: 0.5s}}\n")
    with watching(cfg, tmp_path / "a.log") as a, watching(cfg, tmp_path / "b.log") as b:
        wait_for(lambda: a.text().count(" of staging") + b.text().count(" of staging") >= 4, 45, "four scans")
        assert a.stop() == 0 and b.stop() == 0
    with open_store(demo) as store:
        scans = sorted(store.scans(limit=100), key=lambda s: s.started_at)
    assert len(scans) >= 4
    for before, after in itertools.pairwise(scans):
        assert set(before.environments) & set(after.environments)
        assert before.finished_at <= after.started_at, f"scans {before.id} and {after.id} overlap"
    assert_whole_scans(demo)


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(parity_\S+) (\S+)$", text, re.M)}


def test_a_failing_source_is_recorded_and_the_watch_goes_on_with_metrics(demo: Path, tmp_path: Path) -> None:
    state = demo / "terraform" / "production" / "terraform.tfstate"
    good = state.read_text()
    state.write_text(good[:200])  # truncated: invalid JSON
    cfg = configure(demo, "watch: {default: {every: 0.5s}}\n")
    with watching(cfg, tmp_path / "w.log", "--metrics-port", "0") as w:
        wait_for(lambda: "metrics on" in w.text(), 30, "the metrics server")
        port = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)/", w.text()).group(1))  # type: ignore[union-attr]
        wait_for(lambda: w.text().count("failed") >= 2, 30, "two failed scans")
        assert w.p.poll() is None  # still watching
        m = scrape(port)
        assert sum(v for k, v in m.items() if k.startswith("parity_scan_failures_total")) >= 2
        assert not any(k.startswith("parity_last_scan_age_seconds") for k in m)
        with open_store(demo) as store:
            failures = store.scan_failures()
        assert len(failures) >= 2 and store.scans() == []
        assert all("terraform/production/terraform.tfstate" in f.error for f in failures)
        assert failures[0].environments == ("staging", "production")
        state.write_text(good)  # fixed: the next run succeeds, in the same process
        wait_for(lambda: re.search(r"scan \d+ of staging, production", w.text()), 40, "a scan")
        m = scrape(port)
        assert m['parity_last_scan_age_seconds{environment="production"}'] >= 0
        assert m['parity_last_scan_duration_seconds{environment="staging"}'] > 0
        assert m['parity_coverage_ratio{environment="production"}'] == pytest.approx(0.875)
        assert m['parity_open_findings{environment="production",kind="unmanaged",severity="medium"}'] == 1
        assert m['parity_coverage_complete{environment="staging"}'] == 1
        assert m["parity_alerts_pending"] == 0
        assert w.stop() == 0
    assert "Traceback" not in w.text()


def test_once_in_process_exits_1_when_a_scan_failed_and_0_when_all_ran(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from parity.cli import main

    state = demo / "terraform" / "production" / "terraform.tfstate"
    good = state.read_text()
    state.write_text("{")
    cfg = configure(demo, "watch: {default: {every: 1h}}\n")
    assert main(["watch", "-c", str(cfg), "--once"]) == 1
    assert "failed: terraform/production/terraform.tfstate" in capsys.readouterr().err
    state.write_text(good)
    assert main(["watch", "-c", str(cfg), "--once", "-e", "production"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"scan 1 of staging, production: \d+ new", err) and "Traceback" not in err
