"""`parity watch` against hostile settings and a hostile world: schedules that never fire, leases too short to
hold, a metrics port already taken, and parity.yaml edited (into something broken, then fixed) while watching.
No timing asserts: every wait is bounded and waits for a log line."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from parity.config import ConfigError, load_config, parse_config
from parity.watch import runner
from parity.watch.runner import Watcher


def configure(demo: Path, extra: str) -> Path:
    cfg = demo / "parity.yaml"
    cfg.write_text(cfg.read_text() + "\n" + extra)
    return cfg


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        # valid cron syntax naming no date: the watch stopped at start with "internal error: CroniterBadDateError"
        ('watch: {default: {cron: "0 0 31 4 *"}}', "'0 0 31 4 *' never fires"),
        ('watch: {environments: {staging: {cron: "0 0 30 2 *"}}}', "never fires"),
        # renewed every third of it: a lease of 10 ms renewed the lease in a tight loop and expired mid-scan
        ("watch: {lease: 0.01}", "too short for a lease: at least 30s"),
        ("watch: {lease: 5s}", "too short for a lease"),
    ],
)
def test_schedules_and_leases_that_cannot_work_are_config_errors(yaml_text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config("environments: {staging: {}}\n" + yaml_text, "p.yaml")
    assert message in str(e.value) and str(e.value).startswith("p.yaml:2:")


def test_rare_but_real_cron_dates_are_accepted() -> None:
    cfg = parse_config('environments: {staging: {}}\nwatch: {default: {cron: "0 0 29 2 *"}, lease: 30s}', "p.yaml")
    assert cfg.watch.default.cron == "0 0 29 2 *" and cfg.watch.lease == 30


def test_a_metrics_port_in_use_is_a_clear_error(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: `parity: internal error: OSError: [Errno 98] Address already in use`."""
    from parity.cli import main

    cfg = configure(demo, "watch: {default: {every: 1h}}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["watch", "-c", str(cfg), "--once", "--no-alerts", "--metrics-port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"metrics: cannot listen on 127.0.0.1:{port}" in err and "internal error" not in err


def _wait_for(pred: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_parity_yaml_broken_while_watching_is_reported_and_the_watch_goes_on(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: parity.yaml was read once; an edit (broken or not) went unnoticed until a restart."""
    monkeypatch.setattr(runner, "MAX_SLEEP_S", 0.1)
    cfg = configure(demo, "watch: {default: {every: 1h}}\n")
    good = cfg.read_text()
    lines: list[str] = []
    w = Watcher(load_config(cfg), alerts=False, log=lines.append)

    def has(text: str) -> Callable[[], bool]:
        return lambda: any(text in line for line in lines)

    errors: list[BaseException] = []

    def edit() -> None:
        try:
            _wait_for(has("scan 1 of"), "the first scan")
            cfg.write_text(good + "bogus: [\n")
            _wait_for(has("cannot be used"), "the broken file to be reported")
            assert w.metrics._config_valid is False
            cfg.write_text(good + "bogus: [\n")  # the same broken text again: reported once
            cfg.write_text(good.replace("every: 1h", "every: 2h"))
            _wait_for(has("reloaded"), "the fixed file to be loaded")
        except BaseException as e:  # reported by the main thread
            errors.append(e)
        finally:
            w.stop.set()

    t = threading.Thread(target=edit)
    t.start()
    assert w.run() == 0
    t.join(timeout=60)
    assert not errors, errors
    assert sum("cannot be used" in line for line in lines) == 1
    broken = next(line for line in lines if "cannot be used" in line)
    assert "parity.yaml" in broken and "Traceback" not in broken
    assert w.cfg.watch.default.every == 7200 and all(j.schedule.every == 7200 for j in w.jobs)
    assert w.metrics._config_valid is True


def test_an_environment_watched_with_e_that_disappears_keeps_the_old_config(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "MAX_SLEEP_S", 0.1)
    cfg = configure(demo, "watch: {default: {every: 1h}}\n")
    good = cfg.read_text()
    lines: list[str] = []
    w = Watcher(load_config(cfg), environments=["production"], alerts=False, log=lines.append)
    assert w.jobs and w.jobs[0].environment == "production"
    w.loaded.path.write_text(good.replace("production", "prod"))
    w._config_stat = None  # as if the file changed since the watcher started
    w._reload_config()
    assert any("(watched with -e) is no longer defined" in line for line in lines)
    assert w.jobs[0].environment == "production" and w.metrics._config_valid is False
