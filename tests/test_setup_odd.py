"""`parity init`, `parity schema` and `parity demo` in odd but ordinary situations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from parity.cli import main
from parity.cli.setup_cmds import STARTER
from parity.config import load_config

EXE = Path(sys.executable).parent / "parity"


def test_demo_hints_are_commands_that_run_from_a_folder_with_spaces(tmp_path: Path) -> None:
    """Not a terminal (a pipe, CI logs): the suggested commands are quoted and each on one line, so they can
    be pasted into a shell as printed."""
    proc = subprocess.run(
        [str(EXE), "demo", "--no-aws", "--dir", "my demo/run 1", "--format", "json"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [str(EXE), "demo", "--no-aws", "--dir", "my demo/run 1"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    hints = [ln.removeprefix("Try:").strip() for ln in proc.stderr.splitlines() if re.match(r"\s*(Try: )?cd ", ln)]
    assert len(hints) == 3, proc.stderr
    diff = next(h for h in hints if " diff " in h)
    assert diff.endswith("diff staging production --format markdown"), proc.stderr
    run = subprocess.run(["bash", "-c", diff], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert run.returncode == 2, run.stderr  # drift found: the command ran in the demo folder
    assert run.stdout.startswith("#") or "|" in run.stdout


def test_demo_twice_in_one_folder_keeps_the_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "nested" / "deeper" / "demo"
    assert main(["demo", "--no-aws", "--dir", str(target), "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["demo", "--no-aws", "--dir", str(target), "--format", "json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["summary"]["drift"] == first["summary"]["drift"] > 0
    assert {f["status"] for f in first["findings"]} == {"new"}
    assert {f["status"] for f in second["findings"]} == {"open"}
    assert {f["id"] for f in second["findings"]} == {f["id"] for f in first["findings"]}


def _uncommented(text: str) -> str:
    """The starter with its commented-out examples (`# accounts: ...`, `#  - kind: ...`) switched on."""
    out = []
    for line in text.splitlines():
        m = re.fullmatch(r"(\s*)# ?(\s*(?:- )?[a-z_]+:.*)", line)
        out.append(m[1] + m[2] if m else line)
    return "\n".join(out).replace("ignore: []", "ignore:") + "\n"


@pytest.mark.parametrize("variant", ["as written", "examples uncommented"])
def test_starter_config_is_valid_by_the_printed_schema_and_the_loader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str
) -> None:
    target = tmp_path / "parity.yaml"
    assert main(["init", str(target)]) == 0
    text = target.read_text()
    assert text == STARTER
    if variant != "as written":
        text = _uncommented(text)
        assert "role: live" in text and "expires: 2027-01-31" in text and "accounts:" in text
        target.write_text(text)
    capsys.readouterr()
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    doc = json.loads(json.dumps(yaml.safe_load(text), default=str))  # dates as the text they were written as
    errors = [e.message for e in jsonschema.validators.validator_for(schema)(schema).iter_errors(doc)]
    assert errors == []
    assert set(load_config(target).config.environments) == {"staging", "production"}


def test_init_dash_prints_the_starter_to_standard_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`parity init -` is standard output, as `--images -` is standard input: no file named `-` is written,
    an existing parity.yaml is left alone (no --force needed), and nothing but the config reaches stdout."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "parity.yaml").write_text("mine: true\n")
    assert main(["init", "-"]) == 0
    out, err = capsys.readouterr()
    assert out == STARTER
    assert "written" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parity.yaml"]
    assert (tmp_path / "parity.yaml").read_text() == "mine: true\n"
    proc = subprocess.run([str(EXE), "init", "-"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout) == yaml.safe_load(STARTER)
    assert not (tmp_path / "-").exists()
