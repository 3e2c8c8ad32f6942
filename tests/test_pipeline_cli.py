"""``parity pipeline`` and the pipeline source end to end through ``parity.cli.main``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from parity.cli import main
from pipeline_helpers import ALL_RULES, project

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_reports_pipeline_findings_with_both_environments_on_one_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = project(tmp_path, "hotfix", ALL_RULES)
    code, out, err = run(capsys, "scan", "-c", str(cfg), "--format", "json", "--no-progress")
    assert code == 2, err
    doc = json.loads(out)
    got = {(f["kind"], f["key"]) for f in doc["findings"]}
    assert got == {
        ("promotion_bypass", ".github/workflows/hotfix.yml#hotfix-{env}"),
        ("only_in", ".github/workflows/hotfix.yml#hotfix-{env}"),
    }
    assert doc["coverage"]["production"]["sources"][0]["kind"] == "pipeline"


def test_clean_scan_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "scan", "-c", str(project(tmp_path, "clean", ALL_RULES)), "--no-progress")
    assert code == 0, out + err


def test_pipeline_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pipeline", "-c", str(project(tmp_path, "clean")), "--no-progress")
    assert code == 0
    assert "staging      deploy-staging  (repo/.github/workflows/deploy.yml:15)" in out
    assert "after .github/workflows/deploy.yml#deploy-staging (needs)" in out
    assert "no path skips a stage" in out


def test_pipeline_reads_only_the_pipeline_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The graph needs the workflows only: an AWS account (unreachable here) or a state is never read."""
    cfg = project(tmp_path, "clean")
    cfg.write_text(
        cfg.read_text().replace(
            "  production: {sources: [{kind: pipeline, path: repo}]}",
            "  production: {sources: [{kind: pipeline, path: repo}, {kind: terraform-state, path: absent.tfstate},"
            " {kind: aws, endpoint_url: 'http://127.0.0.1:9', regions: [eu-west-1]}]}",
        )
    )
    code, out, err = run(capsys, "pipeline", "-c", str(cfg), "--no-progress", "--strict")
    assert code == 0, out + err
    assert "no path skips a stage" in out


def test_pipeline_text_marks_bypass_and_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pipeline", "-c", str(project(tmp_path, "hotfix")), "--no-progress")
    assert code == 2
    assert "BYPASS [critical] separate_trigger: job 'hotfix-production'" in out


def test_mermaid_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pipeline", "-c", str(project(tmp_path, "hotfix")), "-f", "mermaid", "--no-progress")
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = [ln for ln in lines if re.match(r"^\s+\w+\[\"", ln)]
    assert len(nodes) == 3  # one per deploy job
    assert any("hotfix-production<br/>production" in ln and ln.endswith(":::bypass") for ln in nodes)
    links = [ln for ln in lines if "-->" in ln or "-.->" in ln]
    red = [i for i, ln in enumerate(links) if "-.->" in ln]
    assert len(red) == 1 and "skips staging" in links[red[0]]
    assert (
        "_github_workflows_deploy_yml_deploy_staging -->|needs| _github_workflows_deploy_yml_deploy_production" in out
    )
    assert f"  linkStyle {red[0]} stroke:#d00,stroke-width:2px,stroke-dasharray:4" in lines
    assert "  classDef bypass stroke:#d00,stroke-width:3px,color:#d00" in lines


def test_json_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "out" / "graph.json"
    cfg = project(tmp_path, "hotfix")
    code, _, err = run(capsys, "pipeline", "-c", str(cfg), "-f", "json", "-o", str(out_file), "--no-progress")
    assert code == 2 and "graph written" in err
    doc = json.loads(out_file.read_text())
    assert doc["schema"] == "parity/pipeline-graph@1" and doc["bypass"] is True
    (repo,) = doc["repositories"]
    assert {(j["job"], j["environment"]) for j in repo["jobs"]} == {
        ("deploy-staging", "staging"),
        ("deploy-production", "production"),
        ("hotfix-production", "production"),
    }
    assert repo["edges"] == [
        {
            "from": ".github/workflows/deploy.yml#deploy-staging",
            "to": ".github/workflows/deploy.yml#deploy-production",
            "via": "needs",
        }
    ]
    reasons = sorted(b["reason"] for b in repo["bypasses"])
    assert reasons == ["branch", "separate_trigger"]
    assert all(b["file"] == "repo/.github/workflows/hotfix.yml" and b["line"] == 9 for b in repo["bypasses"])


def test_malformed_workflow_is_one_error_line_and_nothing_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = project(tmp_path, "clean")
    assert run(capsys, "scan", "-c", str(cfg), "--no-progress")[0] == 0
    (tmp_path / "repo" / ".github" / "workflows" / "deploy.yml").write_text("on: push\njobs:\n  a: {needs: [b]}\n")
    code, out, err = run(capsys, "scan", "-c", str(cfg), "--no-progress")
    assert code == 1 and out == ""
    assert err.strip() == "parity: error: repo/.github/workflows/deploy.yml:3: job 'a' needs unknown job 'b'"
    code, out, _ = run(capsys, "history", "-c", str(cfg), "--format", "json")
    assert code == 0 and len(json.loads(out)) == 1


def test_greenflash_demo_plants_pipeline_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = tmp_path / "greenflash"
    shutil.copytree(EXAMPLE, demo, ignore=shutil.ignore_patterns(".parity"))
    code, out, err = run(capsys, "scan", "-c", str(demo / "parity.yaml"), "--format", "json", "--no-progress")
    assert code == 2, err
    keys = {(f["kind"], f["key"]) for f in json.loads(out)["findings"]}
    assert ("differs", ".github/workflows/deploy.yml#deploy-{env}") in keys
    assert ("promotion_bypass", ".github/workflows/hotfix.yml#hotfix-{env}") in keys
    assert ("only_in", ".github/workflows/hotfix.yml#hotfix-{env}") in keys
    assert ("policy_violation", ".github/workflows/hotfix.yml#hotfix-{env}") in keys
    code, out, _ = run(capsys, "pipeline", "-c", str(demo / "parity.yaml"), "--no-progress")
    assert code == 2 and "hotfix-production" in out
