"""The command line end to end, on a copy of the bundled greenflash example: exit codes, formats,
history and acceptance, bad input, and that no secret value reaches any output or the store."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from parity.cli import main

# The fake secrets planted in the example's files (see examples/greenflash): none may be printed or stored.
SECRETS = [
    "s3cr3t-prod-Pa55",
    "staging-pass-123",
    "sk_live_51Hc2productionFAKEbadc0de",
    "sk_test_51Hc2stagingFAKEc0ffee",
    "tok-prod-7c1d",
    "tok-stg-19ab",
    base64.b64encode(b"pg-prod-Qm9v").decode(),
    base64.b64encode(b"pg-staging-1234").decode(),
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def scan_json(capsys: pytest.CaptureFixture[str], cfg: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, err = run(capsys, "scan", "-c", str(cfg), "--format", "json", *extra)
    assert code in (0, 2, 3), err
    return code, json.loads(out)


def test_scan_finds_the_planted_drift(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = scan_json(capsys, demo / "parity.yaml")
    assert code == 2
    assert doc["schema"] == "parity/findings@1"
    by = {(f["kind"], f["key"]) for f in doc["findings"]}
    # each row of the example's README table
    assert ("only_in", "aws_sqs_queue.orders_replay") in by
    assert ("only_in", "aws_cloudwatch_log_group.audit") in by
    assert ("differs", "aws_db_instance.main") in by
    assert ("differs", "aws_iam_role_policy.app_s3") in by
    assert ("differs", "aws_security_group.web") in by
    assert ("cross_env_reference", "aws_iam_role.app") in by
    assert ("cross_env_reference", "apps/v1/Deployment/greenflash-staging/worker") in by
    assert ("changed", "apps/v1/Deployment/greenflash-production/api") in by
    assert ("unmanaged", "apps/v1/Deployment/greenflash-production/debug-toolbox") in by
    assert ("missing", "batch/v1/CronJob/greenflash-production/report-export") in by
    paths = {c["path"] for f in doc["findings"] for c in f["changes"]}
    assert 'data["app.properties"]#http.client.timeout.ms' in paths
    assert "HTTP_RETRY_MAX" in paths
    # intended differences are listed apart, not as findings
    assert any(e["path"] == "instance_class" for e in doc["expected"])
    assert not any(c["path"] == "instance_class" for f in doc["findings"] for c in f["changes"])
    # the expired ignore rule is reported, the active one suppresses
    audit = next(f for f in doc["findings"] if f["key"] == "aws_cloudwatch_log_group.audit")
    assert any("expired on 2026-06-30" in n for n in audit["notes"])
    assert [f["key"] for f in doc["ignored"]] == ["aws_lambda_function.thumbnailer"]
    assert doc["coverage"]["production"]["live"] > 0
    assert doc["summary"]["exit_code"] == 2
    for f in doc["findings"]:
        assert f["status"] == "new" and len(f["id"]) == 16
        assert f["severity"] in ("critical", "high", "medium", "low", "info")


def test_no_secret_is_printed_or_stored(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for fmt in ("json", "table", "markdown"):
        code, out, err = run(capsys, "scan", "-c", str(demo / "parity.yaml"), "--format", fmt)
        assert code == 2
        outputs.append(out + err)
    code, out, err = run(capsys, "history", "-c", str(demo / "parity.yaml"), "--findings", "--format", "json")
    outputs.append(out)
    stored = b"".join(p.read_bytes() for p in (demo / ".parity").glob("parity.db*"))
    for secret in SECRETS:
        assert secret.encode() in b"".join(
            p.read_bytes() for p in demo.rglob("*") if p.is_file() and ".parity" not in p.parts
        )
        for text in outputs:
            assert secret not in text
        assert secret.encode() not in stored
    assert "<redacted:" in outputs[0]


def test_lifecycle_across_scans_and_accept(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = demo / "parity.yaml"
    _, first = scan_json(capsys, cfg)
    code, second = scan_json(capsys, cfg)
    assert second["scan_id"] == first["scan_id"] + 1
    assert {f["id"] for f in second["findings"]} == {f["id"] for f in first["findings"]}
    assert {f["status"] for f in second["findings"]} == {"open"}
    # accept every finding: the next scan has no drift and exits 0
    for f in second["findings"]:
        code, _, err = run(capsys, "accept", f["id"][:8], "-c", str(cfg), "--owner", "ana", "--reason", "demo",
                           "--expires", "2099-01-01")  # fmt: skip
        assert code == 0, err
    code, third = scan_json(capsys, cfg)
    assert code == 0
    assert {f["status"] for f in third["findings"]} == {"accepted"}
    # fix one drift in the files: the finding is resolved in the next scan
    env_file = demo / "config" / "production" / "app.env"
    env_file.write_text(env_file.read_text().replace("HTTP_RETRY_MAX=5", "HTTP_RETRY_MAX=3"))
    _, fourth = scan_json(capsys, cfg)
    # the mirrors' difference and the value production ran without staging (promotion_bypass) both resolve
    assert sorted((f["key"], f["kind"]) for f in fourth["resolved"]) == [
        ("app.env", "differs"),
        ("app.env", "promotion_bypass"),
    ]
    code, out, _ = run(capsys, "history", "-c", str(cfg), "--format", "json")
    scans = json.loads(out)
    assert [s["id"] for s in scans] == [4, 3, 2, 1]


def test_diff_and_drift_do_not_store(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(demo / "parity.yaml")
    code, out, _ = run(capsys, "diff", "staging", "production", "-c", cfg, "--format", "json")
    assert code == 2
    kinds = {f["kind"] for f in json.loads(out)["findings"]}
    assert kinds <= {"only_in", "differs", "cross_env_reference"} and "differs" in kinds
    code, out, _ = run(capsys, "drift", "production", "-c", cfg, "--format", "json")
    assert code == 2
    kinds = {f["kind"] for f in json.loads(out)["findings"]}
    assert kinds == {"changed", "unmanaged", "missing"}
    code, out, _err = run(capsys, "history", "-c", cfg, "--format", "json")
    assert json.loads(out) == []


def test_markdown_to_a_file(demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "reports" / "drift.md"
    code, out, _err = run(capsys, "diff", "staging", "production", "-c", str(demo / "parity.yaml"),
                         "--format", "markdown", "--output", str(target))  # fmt: skip
    assert code == 2 and out == ""
    text = target.read_text()
    assert text.startswith("# parity: staging vs production")
    assert "aws_sqs_queue.orders_replay" in text and "## Expected differences" in text


def test_an_output_that_cannot_be_written_is_one_line_exit_1(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    code, out, err = run(capsys, "diff", "staging", "production", "-c", str(demo / "parity.yaml"),
                         "--format", "json", "--output", str(folder))  # fmt: skip
    assert code == 1 and out == ""
    assert err.strip() == f"parity: error: {folder}: cannot write the report: Is a directory"


def test_bad_config_is_one_line_exit_1_and_nothing_stored(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = demo / "parity.yaml"
    cfg.write_text(cfg.read_text().replace("promotion: [staging, production]", "promotion: [staging, prod]"))
    code, _out, err = run(capsys, "scan", "-c", str(cfg))
    assert code == 1
    assert err.strip().count("\n") == 0 and "parity.yaml:" in err and "unknown environment 'prod'" in err
    assert "Traceback" not in err
    assert not (demo / ".parity" / "parity.db").exists()


def test_bad_input_file_leaves_the_store_untouched(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(demo / "parity.yaml")
    scan_json(capsys, demo / "parity.yaml")
    state = demo / "terraform" / "production" / "terraform.tfstate"
    state.write_text(state.read_text()[:500])  # truncated mid-write
    code, out, err = run(capsys, "scan", "-c", cfg)
    assert code == 1
    assert "terraform/production/terraform.tfstate" in err and "Traceback" not in err
    code, out, _ = run(capsys, "history", "-c", cfg, "--format", "json")
    assert len(json.loads(out)) == 1


@pytest.mark.parametrize(
    "args",
    [["diff", "staging", "qa"], ["drift", "nowhere"], ["accept", "ffffffffffff", "--owner", "a", "--reason", "b",
                                                        "--expires", "2099-01-01"]],
)  # fmt: skip
def test_unknown_names_exit_1(demo: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _out, err = run(capsys, *args, "-c", str(demo / "parity.yaml"))
    assert code == 1 and err.startswith("parity: error:")


def test_usage_errors_exit_1_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "scan", "--no-such-option")
    assert code == 1
    code, _, _ = run(capsys, "diff", "only-one-env")
    assert code == 1


def test_missing_config_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", "-c", str(tmp_path / "parity.yaml"))
    assert code == 1 and "config file not found" in err and "parity init" in err


def test_strict_turns_a_coverage_gap_into_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A kustomization that cannot be rendered (no kubectl on PATH) is read raw and recorded as a gap.
    overlay = tmp_path / "k8s"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (overlay / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1'}\n")
    cfg = tmp_path / "parity.yaml"
    cfg.write_text("environments:\n  staging:\n    sources:\n      - {kind: kubernetes-manifests, path: k8s}\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, out, _ = run(capsys, "scan", "-c", str(cfg), "--format", "json")
    assert code == 0
    assert json.loads(out)["coverage"]["staging"]["complete"] is False
    code, _, _ = run(capsys, "scan", "-c", str(cfg), "--strict")
    assert code == 3


def test_init_schema_and_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "parity.yaml"
    code, _, _ = run(capsys, "init", str(target))
    assert code == 0 and "environments:" in target.read_text()
    from parity.config import load_config

    assert set(load_config(target).config.environments) == {"staging", "production"}
    code, _, err = run(capsys, "init", str(target))
    assert code == 1 and "already exists" in err
    code, _, err = run(capsys, "init", str(tmp_path), "--force")  # a folder: cannot be written
    assert code == 1 and err.strip() == f"parity: error: {tmp_path}: cannot write the starter config: Is a directory"
    code, out, _ = run(capsys, "schema")
    assert code == 0 and json.loads(out)["title"] == "parity.yaml"


def test_scan_on_each_store_backend(demo: Path, capsys: pytest.CaptureFixture[str], store_url: str) -> None:
    cfg = demo / "parity.yaml"
    cfg.write_text(cfg.read_text().replace("store: sqlite:///.parity/parity.db", f"store: {store_url}"))
    code, first = scan_json(capsys, cfg)
    code, second = scan_json(capsys, cfg)
    assert code == 2 and {f["status"] for f in second["findings"]} == {"open"}
    assert second["scan_id"] > first["scan_id"]


def test_installed_command_runs_the_demo(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "parity"
    proc = subprocess.run(
        [str(exe), "demo", "--dir", str(tmp_path / "d"), "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["drift"] > 0
    assert "Traceback" not in proc.stderr


def test_fail_on_new_fails_once_per_drift(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Scheduled scans page once: with --fail-on new, known open drift does not fail again."""
    cfg = str(demo / "parity.yaml")
    assert main(["scan", "-c", cfg, "--fail-on", "new", "--format", "json"]) == 2  # everything is new
    assert main(["scan", "-c", cfg, "--fail-on", "new", "--format", "json"]) == 0  # all open, nothing new
    assert main(["scan", "-c", cfg, "--format", "json"]) == 2  # the default still fails on open drift
    env_file = demo / "config" / "production" / "app.env"
    env_file.write_text(env_file.read_text() + "NEW_FLAG=on\n")
    assert main(["scan", "-c", cfg, "--fail-on", "new", "--format", "json"]) == 2  # a new difference
    capsys.readouterr()
