"""`parity promote-check` on the greenflash example after real scans: exit codes and reasons for images,
manifests and plans, staging's open high-severity drift, and the errors that must never read as clear."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from parity.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    d = tmp_path / "demo"
    shutil.copytree(EXAMPLE, d, ignore=shutil.ignore_patterns(".parity"))
    assert main(["scan", "-c", str(d / "parity.yaml"), "--format", "json"]) == 2
    capsys.readouterr()
    return d


def check(capsys: pytest.CaptureFixture[str], demo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["promote-check", "--to", "production", "-c", str(demo / "parity.yaml"), "--format", "json", *args])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    return code, json.loads(out)


def test_images_that_ran_in_staging_pass_and_others_block(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("# what the pipeline built\nghcr.io/greenflash/api:3.1.0\n"))
    code, doc = check(capsys, demo, "--images", "-")
    assert (code, doc["reasons"], doc["from"], doc["to"]) == (0, [], "staging", "production")
    assert [(a["artifact"], a["ran_in_previous"]) for a in doc["artifacts"]] == [("ghcr.io/greenflash/api:3.1.0", True)]

    images = demo / "images.txt"
    images.write_text("ghcr.io/greenflash/api:3.1.1-hotfix\nghcr.io/greenflash/worker:2.4.0\n")
    code, doc = check(capsys, demo, "--images", str(images))
    assert code == 2
    assert doc["reasons"] == [f"image ghcr.io/greenflash/api:3.1.1-hotfix ({images}:1) has never run in staging"]

    # the table says the same, for people
    assert main(["promote-check", "--to", "production", "-c", str(demo / "parity.yaml"), "--images", str(images)]) == 2
    assert "never" in capsys.readouterr().out
    assert (
        main(["promote-check", "--to", "production", "-c", str(demo / "parity.yaml"), "--images", str(images),
              "--format", "markdown"]) == 2
    )  # fmt: skip
    assert "**blocked**" in capsys.readouterr().out


def test_rendered_manifests_and_plans(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prod = demo / "kubernetes" / "production" / "greenflash.yaml"
    code, doc = check(capsys, demo, "--manifest", str(prod))
    assert code == 0 and {a["artifact"] for a in doc["artifacts"]} == {
        "ghcr.io/greenflash/api:3.1.0",
        "ghcr.io/greenflash/worker:2.4.0",
    }
    bumped = demo / "rendered.yaml"
    bumped.write_text(prod.read_text().replace("greenflash/api:3.1.0", "greenflash/api:3.2.0"))
    code, doc = check(capsys, demo, "--manifest", str(bumped))
    assert code == 2 and len(doc["reasons"]) == 1 and "ghcr.io/greenflash/api:3.2.0" in doc["reasons"][0]

    defs = json.dumps([{"name": "web", "image": "ghcr.io/greenflash/api:3.1.0"},
                       {"name": "sidecar", "image": "ghcr.io/greenflash/proxy:1.0"}])  # fmt: skip
    plan = {"format_version": "1.2", "terraform_version": "1.6.0",
            "planned_values": {"root_module": {"resources": [
                {"address": "aws_ecs_task_definition.web", "type": "aws_ecs_task_definition", "name": "web",
                 "values": {"family": "web", "container_definitions": defs}}]}},
            "configuration": {"root_module": {"module_calls": {
                "vpc": {"source": "terraform-aws-modules/vpc/aws", "version_constraint": "5.1.0"}}}}}  # fmt: skip
    (demo / "plan.json").write_text(json.dumps(plan))
    code, doc = check(capsys, demo, "--plan", str(demo / "plan.json"))
    assert code == 2
    assert {(a["kind"], a["artifact"], a["ran_in_previous"]) for a in doc["artifacts"]} == {
        ("image", "ghcr.io/greenflash/api:3.1.0", True),
        ("image", "ghcr.io/greenflash/proxy:1.0", False),
        ("module", "terraform-aws-modules/vpc/aws@5.1.0", False),
    }
    assert len(doc["reasons"]) == 2


def test_open_high_severity_drift_in_staging_blocks(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Staging gets a live export lacking the api Deployment: `missing` (high) drift in staging blocks."""
    cfg = demo / "parity.yaml"
    live = demo / "kubernetes" / "staging-live.yaml"
    docs = (demo / "kubernetes" / "staging" / "greenflash.yaml").read_text().split("\n---")
    live.write_text("\n---".join(d for d in docs if "kind: Deployment" in d and "name: worker" in d))
    cfg.write_text(
        cfg.read_text().replace(
            "      - kind: pipeline\n        path: .\n  production:",
            "      - kind: pipeline\n        path: .\n"
            "      - {kind: kubernetes-manifests, name: cluster, role: live, path: kubernetes/staging-live.yaml,\n"
            "         kinds: [apps/v1/Deployment]}\n  production:",
        )
    )
    assert main(["scan", "-c", str(cfg), "--format", "json"]) == 2
    capsys.readouterr()
    code, doc = check(capsys, demo, "--images", str(_write(demo, "ghcr.io/greenflash/api:3.1.0\n")))
    assert code == 2
    assert [a["ran_in_previous"] for a in doc["artifacts"]] == [True]
    (reason,) = doc["reasons"]
    assert reason.startswith("staging has 1 open high-severity drift finding(s)") and "missing" in reason
    assert [(f["kind"], f["environments"]) for f in doc["drift"]] == [("missing", ["staging"])]


def _write(demo: Path, text: str) -> Path:
    p = demo / "list.txt"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "staging", "--images", "x"], "'staging' has no earlier stage"),
        (["--to", "production"], "nothing to check"),
        (["--to", "qa", "--images", "x"], "unknown environment 'qa'"),
    ],
)
def test_errors_exit_1(demo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["promote-check", "-c", str(demo / "parity.yaml"), *args]) == 1
    assert message in capsys.readouterr().err


def test_bad_input_and_an_unscanned_stage_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLE, demo, ignore=shutil.ignore_patterns(".parity"))
    images = _write(demo, "ghcr.io/greenflash/api:3.1.0\n")
    assert main(["promote-check", "--to", "production", "-c", str(demo / "parity.yaml"), "--images", str(images)]) == 1
    assert "staging was never scanned" in capsys.readouterr().err
    assert main(["scan", "-c", str(demo / "parity.yaml"), "-e", "staging", "--format", "json"]) in (0, 2)
    capsys.readouterr()
    _write(demo, "ghcr.io/greenflash/api:3.1.0\nnot an image\n")
    assert main(["promote-check", "--to", "production", "-c", str(demo / "parity.yaml"), "--images", str(images)]) == 1
    assert "list.txt:2" in capsys.readouterr().err
