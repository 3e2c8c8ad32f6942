"""The collector policy: pauses around bulk work, and the freeze a one-shot command asks for."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from parity import gcpause
from parity.gcpause import freeze_after_pauses, paused_gc


def test_a_pause_restores_the_collector_and_freezes_nothing_by_default() -> None:
    assert gc.isenabled()
    before = gc.get_freeze_count()
    with paused_gc():
        assert not gc.isenabled()
        kept = [{"i": i} for i in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == before
    assert len(kept) == 1000


def test_a_pause_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_frozen_after_pauses_when_asked_and_thawed_when_turned_off() -> None:
    freeze_after_pauses()
    with paused_gc():
        kept = [{"i": i} for i in range(1000)]
    assert gc.get_freeze_count() >= len(kept)  # the new dicts among what the collector no longer traverses
    assert gc.isenabled()
    freeze_after_pauses(False)
    assert gc.get_freeze_count() == 0 and not gcpause._freeze_after


def test_watch_turns_the_freeze_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from parity.cli import main

    freeze_after_pauses()  # as the `parity` entry point does before any command
    cfg = tmp_path / "parity.yaml"
    (tmp_path / "a.env").write_text("A=1\n")
    cfg.write_text("store: sqlite:///store.db\nenvironments:\n  staging:\n    sources: [{kind: config, path: a.env}]\n")
    assert main(["watch", "-c", str(cfg), "--once"]) == 0
    assert not gcpause._freeze_after and gc.get_freeze_count() == 0


def test_the_command_freezes_after_its_pauses() -> None:
    code = (
        "import sys; sys.argv = ['parity', 'version']\n"
        "from parity.__main__ import entry\n"
        "from parity import gcpause\n"
        "try:\n    entry()\nexcept SystemExit:\n    pass\n"
        "print(gcpause._freeze_after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("True")
