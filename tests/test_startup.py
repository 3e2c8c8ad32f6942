"""What a command imports: every `parity` invocation pays for the CLI's imports before it does anything, so
`parity version`, `--help` and `parity init` load no store, no AWS SDK and no HCL parser, and a diff of
config files loads no AWS SDK and no HCL parser (see parity.cli.common). Each case runs in a fresh
interpreter, as the command does: this test process has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import parity
from parity.cli import common
from parity.config import DEFAULT_CONFIG

STORE = ("sqlalchemy", "alembic")
AWS = ("boto3", "botocore")
HCL = ("hcl2", "lark")

_RUN = """\
import json, sys
sys.argv = ["parity", *json.loads(sys.argv[1])]
from parity.__main__ import entry
try:
    entry()
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def run_parity(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    """``parity ARGS`` in a new interpreter: its exit code, and the top-level packages it imported."""
    src = str(Path(parity.__file__).resolve().parents[1])  # the code under test, installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.splitlines()[-1])
    return int(last["code"]), set(last["modules"])


@pytest.mark.parametrize("args", [["version"], ["--help"], ["scan", "--help"], ["init", "-"]])
def test_commands_that_read_nothing_load_no_store_aws_or_hcl(args: list[str], tmp_path: Path) -> None:
    code, modules = run_parity(args, tmp_path)
    assert code == 0
    assert modules.isdisjoint(STORE + AWS + HCL), sorted(modules.intersection(STORE + AWS + HCL))


def _two_environments(tmp_path: Path, staging: str, production: str) -> None:
    (tmp_path / "parity.yaml").write_text(
        "store: sqlite:///.parity/parity.db\n"
        "environments:\n"
        f"  staging:\n    sources:\n      - kind: config\n        path: {staging}\n"
        f"  production:\n    sources:\n      - kind: config\n        path: {production}\n"
    )


def test_a_diff_of_env_files_loads_no_aws_sdk_and_no_hcl_parser(tmp_path: Path) -> None:
    (tmp_path / "staging.env").write_text("A=1\nB=2\n")
    (tmp_path / "production.env").write_text("A=1\nB=3\n")
    _two_environments(tmp_path, "staging.env", "production.env")
    code, modules = run_parity(["diff", "staging", "production", "-f", "json", "-o", "report.json"], tmp_path)
    assert code == 2  # B differs: the diff ran through
    findings = json.loads((tmp_path / "report.json").read_text())["findings"]
    assert [c["path"] for f in findings for c in f["changes"]] == ["B"]
    assert modules.isdisjoint(AWS + HCL), sorted(modules.intersection(AWS + HCL))


def test_a_diff_of_tfvars_files_loads_the_hcl_parser(tmp_path: Path) -> None:
    """The check above can see an import: the parser is loaded once a config source reads HCL."""
    (tmp_path / "staging.tfvars").write_text('a = "1"\n')
    (tmp_path / "production.tfvars").write_text('a = "2"\n')
    _two_environments(tmp_path, "staging.tfvars", "production.tfvars")
    code, modules = run_parity(["diff", "staging", "production", "-f", "json", "-o", "report.json"], tmp_path)
    assert code == 2
    assert set(HCL) <= modules and modules.isdisjoint(AWS)


def test_the_default_config_path_is_the_config_modules() -> None:
    # spelled out in parity.cli.common so that every command need not import the config models for it
    assert Path(DEFAULT_CONFIG) == common.DEFAULT_CONFIG_PATH


@pytest.mark.parametrize("args", [["history", "-e", "nope"], ["promote-check", "--to", "nope", "--images", "-"]])
def test_commands_checking_an_environment_name_load_no_pipeline(args: list[str], tmp_path: Path) -> None:
    """history and promote-check check an environment name against parity.yaml without importing the scan
    pipeline (every source's types, permissions, promotion: hundreds of modules)."""
    (tmp_path / "parity.yaml").write_text(
        "environments:\n  staging:\n    sources: []\n  production:\n    sources: []\npromotion: [staging, production]\n"
    )
    code = _RUN.replace('"modules": sorted(', '"pipeline": "parity.pipeline" in sys.modules, "modules": sorted(')
    src = str(Path(parity.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,  # promote-check --images - would read it after the name check
    )
    last = json.loads(done.stdout.splitlines()[-1])
    assert last["code"] == 1 and "unknown environment 'nope'" in done.stderr
    assert last["pipeline"] is False
    assert "alembic" not in last["modules"]
