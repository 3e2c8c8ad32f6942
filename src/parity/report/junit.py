"""JUnit XML output, for CI systems that show test reports (Jenkins, GitLab, Azure DevOps, CircleCI).

Shape: ``<testsuites>`` holding one ``<testsuite>`` per environment (code vs live, single-environment checks,
coverage) and one per pair of environments that has findings or expected differences (mirror checks). Each
drift finding is a failing ``<testcase>`` (classname ``parity.<kind>``, name the resource key) whose
``<failure>`` carries the message, id, severity, location and changed paths; an accepted finding is a skipped
testcase. Checks that ran and found nothing are passing testcases where that is meaningful: the mirror checks
of a compared pair, the code-vs-live checks of an environment with a live source. Each environment's coverage
is a testcase too, skipped when a source could not check something. Every suite carries the scan id and the
title as ``<properties>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from parity.model import Finding
from parity.report.model import DRIFT_STATUSES, CoverageSummary, Report, sort_findings
from parity.report.values import short as short_value

MIRROR_CHECKS = ("only_in", "differs", "cross_env_reference")
CODE_LIVE_CHECKS = ("unmanaged", "missing", "changed")

# Characters XML 1.0 cannot carry (resource names come from the cloud: anything is possible).
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(value))


@dataclass
class _Suite:
    name: str
    environments: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)
    coverage: CoverageSummary | None = None
    compared: bool = False  # a mirror pair known to have been compared


def _suites(report: Report) -> list[_Suite]:
    suites: dict[tuple[str, ...], _Suite] = {}

    def suite(envs: tuple[str, ...]) -> _Suite:
        if envs not in suites:
            suites[envs] = _Suite(" vs ".join(envs), envs)
        return suites[envs]

    for c in report.coverage:
        suite((c.environment,)).coverage = c
    for e in report.expected:
        suite(tuple(e.environments)).compared = True
    for f in sort_findings(report.findings):
        s = suite(tuple(f.environments))
        s.findings.append(f)
        if len(f.environments) == 2 and f.kind in ("only_in", "differs"):
            s.compared = True
    return list(suites.values())


def _finding_case(parent: ET.Element, f: Finding) -> tuple[int, int]:
    """Append one testcase; returns (failures, skipped) it adds."""
    name = f.key + (f" {f.detail}" if f.detail else "")
    case = ET.SubElement(parent, "testcase", classname=f"parity.{f.kind}", name=xml_text(name), time="0")
    lines = [
        f"id: {f.id}",
        f"severity: {f.severity}",
        f"status: {f.status}",
        f"type: {f.type}",
        "resources: " + ", ".join(f"{env}={rid}" for env, rid in f.resources.items()),
    ]
    if f.location is not None:
        lines.append(f"location: {f.location.file}" + (f":{f.location.line}" if f.location.line else ""))
    lines += [f"change: {c.path}: {short_value(c.left)} -> {short_value(c.right)}" for c in f.changes]
    lines += [f"note: {n}" for n in f.notes]
    if f.status in DRIFT_STATUSES:
        failure = ET.SubElement(case, "failure", message=xml_text(f.message), type=f.kind)
        failure.text = xml_text("\n".join(lines))
        return 1, 0
    skipped = ET.SubElement(case, "skipped", message=xml_text(f"{f.status}: " + "; ".join(f.notes)))
    skipped.text = xml_text("\n".join(lines))
    return 0, 1


def _passing(parent: ET.Element, kinds: Iterable[str], found: set[str], suite: str) -> int:
    n = 0
    for kind in kinds:
        if kind not in found:
            ET.SubElement(parent, "testcase", classname=f"parity.{kind}", name=xml_text(f"no {kind} in {suite}"))
            n += 1
    return n


def _coverage_case(parent: ET.Element, c: CoverageSummary) -> int:
    case = ET.SubElement(parent, "testcase", classname="parity.coverage", name=xml_text(f"coverage of {c.environment}"))
    if not c.gaps:
        return 0
    skipped = ET.SubElement(case, "skipped", message=f"{len(c.gaps)} coverage gap(s): not everything was checked")
    skipped.text = xml_text("\n".join(f"{g.scope}: {g.type or 'all types'}: {g.reason}" for g in c.gaps))
    return 1


def to_element(report: Report) -> ET.Element:
    root = ET.Element("testsuites", name=xml_text(f"parity: {report.title}"))
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    stamp = report.generated_at.strftime("%Y-%m-%dT%H:%M:%S")
    for s in _suites(report):
        el = ET.SubElement(root, "testsuite", name=xml_text(s.name), timestamp=stamp, time="0", errors="0")
        props = ET.SubElement(el, "properties")
        if report.scan_id is not None:
            ET.SubElement(props, "property", name="scan_id", value=str(report.scan_id))
        ET.SubElement(props, "property", name="title", value=xml_text(report.title))
        ET.SubElement(props, "property", name="environments", value=xml_text(",".join(s.environments)))
        tests = failures = skipped = 0
        for f in s.findings:
            fa, sk = _finding_case(el, f)
            tests, failures, skipped = tests + 1, failures + fa, skipped + sk
        found: set[str] = {f.kind for f in s.findings}
        if s.compared:
            tests += _passing(el, MIRROR_CHECKS, found, s.name)
        if s.coverage is not None:
            if s.coverage.live is not None:
                tests += _passing(el, CODE_LIVE_CHECKS, found, s.name)
            skipped += _coverage_case(el, s.coverage)
            tests += 1
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("skipped", str(skipped))
        totals["tests"] += tests
        totals["failures"] += failures
        totals["skipped"] += skipped
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("errors", "0")
    return root


def render(report: Report, strict: bool = False, color: bool = False) -> str:
    root = to_element(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
