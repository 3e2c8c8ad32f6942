"""The machine format: ``{"schema": "parity/findings@1", "findings", "coverage", "summary"}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from parity.model import Finding
from parity.report.model import Report, sort_findings
from parity.serialize import FINDINGS_SCHEMA, change_to_dict, finding_to_dict


def _finding(f: Finding, now: datetime) -> dict[str, Any]:
    """``finding_to_dict`` plus ``open_seconds``: how long it has been open (from the stored first_seen)."""
    d = finding_to_dict(f)
    d["open_seconds"] = (
        int((now - f.first_seen).total_seconds()) if f.first_seen is not None and f.status != "resolved" else None
    )
    return d


def to_dict(report: Report, strict: bool = False) -> dict[str, Any]:
    return {
        "schema": FINDINGS_SCHEMA,
        "title": report.title,
        "scan_id": report.scan_id,
        "generated_at": report.generated_at.isoformat(),
        "findings": [_finding(f, report.generated_at) for f in sort_findings(report.findings)],
        "coverage": {
            c.environment: {
                "managed": c.managed,
                "live": c.live,
                "ratio": c.ratio,
                "complete": not c.gaps,
                "gaps": [{"scope": g.scope, "type": g.type, "kind": g.kind, "reason": g.reason} for g in c.gaps],
                "sources": [
                    {"name": s.name, "kind": s.kind, "role": s.role, "resources": s.resources, "listed": s.listed}
                    for s in c.sources
                ],
            }
            for c in report.coverage
        },
        "summary": report.summary(strict),
        "expected": [
            {
                "type": e.type,
                "key": e.key,
                "environments": list(e.environments),
                **change_to_dict(e.change),
                "reason": e.reason,
            }
            for e in report.expected
        ],
        "ignored": [finding_to_dict(f) for f in report.ignored],
        "resolved": [finding_to_dict(f) for f in report.resolved],
        "notes": list(report.notes),
    }


def render(report: Report, strict: bool = False, color: bool = False) -> str:
    return orjson.dumps(to_dict(report, strict), option=orjson.OPT_INDENT_2).decode() + "\n"
