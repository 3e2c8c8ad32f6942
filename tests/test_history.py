"""Drift history over several real scans: a live SQS queue on moto's server changed by hand, reverted and
changed again (finding new -> resolved -> recurring; `history RESOURCE` and `--changes` name the path), and a
file-based timeline on the greenflash example (a manifest edited between scans)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import account_session, new_account
from parity.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main([*args, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    return code, json.loads(out)


@pytest.fixture
def live_queue(moto_url: str, tmp_path: Path) -> tuple[Any, Path, str]:
    """An account whose queue matches its Terraform state, and a config scanning it (attribution off: moto has
    no CloudTrail LookupEvents; see test_attribution.py)."""
    acct = new_account()
    sqs = account_session(moto_url, acct).client("sqs", endpoint_url=moto_url)  # type: ignore[attr-defined]
    sqs.create_queue(QueueName="orders-prod", Attributes={"VisibilityTimeout": "120"})
    url = f"https://sqs.eu-west-1.amazonaws.com/{acct}/orders-prod"  # the id AWS and Terraform give it
    attrs = {"id": url, "name": "orders-prod", "visibility_timeout_seconds": 120, "message_retention_seconds": 345600,
             "delay_seconds": 0, "fifo_queue": False, "max_message_size": 1048576, "receive_wait_time_seconds": 0,
             "sqs_managed_sse_enabled": True}  # fmt: skip
    instance = {"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    state = {"version": 4, "terraform_version": "1.6.0", "serial": 1, "lineage": "x", "outputs": {},
             "resources": [{"mode": "managed", "type": "aws_sqs_queue", "name": "orders", "provider": provider,
                            "instances": [instance]}]}  # fmt: skip
    (tmp_path / "production.tfstate").write_text(json.dumps(state))
    cfg = tmp_path / "parity.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'p.db'}\n"
        "environments:\n  production:\n    sources:\n"
        "      - {kind: terraform-state, path: production.tfstate}\n"
        f"      - {{kind: aws, name: live, regions: [eu-west-1], endpoint_url: '{moto_url}',\n"
        f"         role_arn: 'arn:aws:iam::{acct}:role/parity', resource_types: {{include: [aws_sqs_queue]}}}}\n"
        "attribution: {enabled: false}\n"
    )
    return sqs, cfg, url


def test_a_queue_changed_reverted_and_changed_again(
    live_queue: tuple[Any, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sqs, cfg, url = live_queue
    c = str(cfg)

    def scan() -> dict[str, Any]:
        return run(capsys, "scan", "-c", c)[1]  # type: ignore[no-any-return]

    def set_timeout(seconds: str) -> None:
        queue = sqs.get_queue_url(QueueName="orders-prod")["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": seconds})

    def changed(doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [f for f in doc["findings"] if f["kind"] == "changed" and f["resources"]["production"] == url]

    assert changed(scan()) == []
    set_timeout("30")
    second = changed(scan())
    assert [(f["status"], [(x["path"], x["left"], x["right"]) for x in f["changes"]]) for f in second] == [
        ("new", [("visibility_timeout_seconds", 120, 30)])
    ]
    set_timeout("120")
    third = scan()
    assert changed(third) == [] and [f["id"] for f in third["resolved"]] == [second[0]["id"]]
    set_timeout("45")
    fourth = changed(scan())
    assert [(f["id"], f["status"]) for f in fourth] == [(second[0]["id"], "recurring")]
    assert fourth[0]["open_seconds"] is not None and fourth[0]["first_seen"] == second[0]["first_seen"]

    # the resource's timeline: the live version changed in scans 2, 3 and 4, on the one path
    _, doc = run(capsys, "history", "orders-prod", "-c", c)
    live = [t for t in doc["timelines"] if t["source"] == "live"]
    assert len(live) == 1 and live[0]["present"]
    versions = [(v["event"], v["from_scan"], v["paths"]) for v in live[0]["versions"]]
    assert versions == [("added", 1, []), *[("changed", n, ["visibility_timeout_seconds"]) for n in (2, 3, 4)]]
    declared = [t for t in doc["timelines"] if t["source"] != "live"]
    assert [len(t["versions"]) for t in declared] == [1]  # the state never changed
    assert [(f["kind"], f["status"]) for f in doc["findings"]] == [("changed", "recurring")]

    # --changes (default with -e): what changed between consecutive scans
    _, scans = run(capsys, "history", "-e", "production", "-c", c)
    assert [s["id"] for s in scans] == [4, 3, 2, 1]
    assert scans[-1]["changes"] == {}  # the first scan has no previous one
    for s in scans[:-1]:
        delta = s["changes"]["production"]
        assert delta["since_scan"] == s["id"] - 1 and delta["added"] == [] and delta["removed"] == []
        assert [(x["source"], x["id"], x["paths"]) for x in delta["changed"]] == [
            ("live", url, ["visibility_timeout_seconds"])
        ]
    # without -e the changes are only shown when asked for
    _, plain = run(capsys, "history", "-c", c)
    assert "changes" not in plain[0]
    _, asked = run(capsys, "history", "--changes", "-c", c)
    assert asked[0]["changes"] == scans[0]["changes"]


def test_file_timeline_and_table_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich folds long cells at 80 columns when not on a terminal
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLE, demo, ignore=shutil.ignore_patterns(".parity"))
    cfg = str(demo / "parity.yaml")
    manifest = demo / "kubernetes" / "staging" / "greenflash.yaml"
    run(capsys, "scan", "-c", cfg)
    manifest.write_text(manifest.read_text().replace("greenflash/worker:2.4.0", "greenflash/worker:2.5.0"))
    run(capsys, "scan", "-c", cfg)
    # a resource removed and brought back
    text = manifest.read_text()
    manifest.write_text(text.replace("kind: CronJob", "kind: CronJobGone"))
    run(capsys, "scan", "-c", cfg)
    manifest.write_text(text)
    run(capsys, "scan", "-c", cfg)

    _, doc = run(capsys, "history", "greenflash-staging/worker", "-c", cfg)
    (line,) = doc["timelines"]
    assert [(v["event"], v["from_scan"], v["paths"]) for v in line["versions"]] == [
        ("added", 1, []),
        ("changed", 2, ["spec.template.spec.containers[worker].image"]),
    ]
    _, doc = run(capsys, "history", "batch/v1/CronJob/*/report-export", "-e", "staging", "-c", cfg)
    (line,) = doc["timelines"]
    assert [(v["event"], v["from_scan"], v["until_scan"]) for v in line["versions"]] == [
        ("added", 1, 2),
        ("changed", 2, 3),  # its container runs the worker image too
        ("re-added", 4, None),  # removed at scan 3
    ]

    _, scans = run(capsys, "history", "-e", "staging", "-c", cfg)
    removed = scans[1]["changes"]["staging"]["removed"]  # scan 3
    assert [(r["type"], r["id"]) for r in removed] == [("batch/v1/CronJob", "greenflash-staging/report-export")]
    assert [(r["type"], r["id"]) for r in scans[1]["changes"]["staging"]["added"]] == [
        ("batch/v1/CronJobGone", "greenflash-staging/report-export")
    ]

    assert main(["history", "greenflash-staging/worker", "-c", cfg]) == 0
    out = capsys.readouterr().out
    assert "spec.template.spec.containers[worker].image" in out and "findings about" in out
    assert main(["history", "-e", "staging", "-c", cfg]) == 0
    assert "changes since scan #1" in capsys.readouterr().out
    assert main(["history", "no-such-thing", "-c", cfg]) == 1
    assert "no stored resource matches" in capsys.readouterr().err


def test_markdown_report_shows_how_long_a_finding_is_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLE, demo, ignore=shutil.ignore_patterns(".parity"))
    cfg = str(demo / "parity.yaml")
    run(capsys, "scan", "-c", cfg)
    assert main(["scan", "-c", cfg, "--format", "markdown"]) == 2
    md = capsys.readouterr().out
    assert "| open (0m) |" in md  # open since the first scan, minutes ago
