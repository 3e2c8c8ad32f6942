"""What an alert says: the ``parity/findings@1`` document restricted to a scan's new and recurring findings.

:func:`alert_queue` builds the callable ``Store.record_scan`` runs inside the scan's transaction: it picks the
findings whose lifecycle status is ``new`` or ``recurring`` (an accepted finding is never sent), keeps those at
or above each notifier's ``min_severity``, and returns one ``(notifier id, JSON)`` row per notifier with
something to say. The same document is what the webhook POSTs; Slack and email render it as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from parity.alerts.settings import AlertConfig
from parity.model import SEVERITIES, Finding
from parity.report.jsonfmt import to_dict
from parity.report.model import CoverageSummary, Report
from parity.store.types import AlertQueue

ALERT_STATUSES = frozenset({"new", "recurring"})


def alert_findings(findings: Sequence[Finding], min_severity: str = "info") -> list[Finding]:
    """The findings an alert carries: new or recurring, at least ``min_severity``."""
    limit = SEVERITIES.index(min_severity)
    return [f for f in findings if f.status in ALERT_STATUSES and SEVERITIES.index(f.severity) <= limit]


def alert_document(
    title: str,
    scan_id: int,
    environments: Sequence[str],
    findings: Sequence[Finding],
    coverage: Sequence[CoverageSummary] = (),
) -> dict[str, Any]:
    """``{"schema": "parity/findings@1", "scan_id", "environments", "findings", "coverage", "summary", ...}``."""
    report = Report(title=title, findings=tuple(findings), coverage=tuple(coverage), scan_id=scan_id)
    doc = to_dict(report)
    for key in ("expected", "ignored", "resolved", "notes"):
        doc.pop(key, None)
    doc["event"] = "parity.alert"
    doc["environments"] = list(environments)
    return doc


def alert_queue(
    notifiers: Sequence[AlertConfig],
    title: str,
    environments: Sequence[str],
    coverage: Sequence[CoverageSummary] = (),
) -> AlertQueue | None:
    """The outbox rows of a scan, or None when no notifier is configured."""
    if not notifiers:
        return None

    def rows(scan_id: int, findings: Sequence[Finding]) -> list[tuple[str, str]]:
        out = []
        for n in notifiers:
            chosen = alert_findings(findings, n.min_severity)
            if chosen:
                doc = alert_document(title, scan_id, environments, chosen, coverage)
                out.append((n.id, orjson.dumps(doc).decode()))
        return out

    return rows
