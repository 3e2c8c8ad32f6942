"""What a command hands to the renderers: findings plus what was suppressed and what was covered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from parity.compare import ExpectedDifference
from parity.model import SEVERITIES, CoverageGap, Finding

# Statuses that are drift for the exit code: accepted findings are tolerated by decision.
DRIFT_STATUSES = frozenset({"new", "open", "recurring"})
# With `--fail-on new`: only what this scan brought (or brought back) fails; known open drift does not.
NEW_STATUSES = frozenset({"new", "recurring"})

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2
EXIT_INCOMPLETE = 3


@dataclass(frozen=True)
class SourceSummary:
    name: str
    kind: str
    role: str
    resources: int
    listed: int  # files or scopes read


@dataclass(frozen=True)
class CoverageSummary:
    """One environment's coverage: its sources, code-vs-live ratio where it has live sources, and gaps."""

    environment: str
    sources: tuple[SourceSummary, ...] = ()
    managed: int | None = None
    live: int | None = None
    gaps: tuple[CoverageGap, ...] = ()

    @property
    def ratio(self) -> float | None:
        if not self.live:
            return None
        return (self.managed or 0) / self.live


@dataclass(frozen=True)
class Report:
    title: str
    findings: tuple[Finding, ...] = ()
    expected: tuple[ExpectedDifference, ...] = ()
    ignored: tuple[Finding, ...] = ()
    coverage: tuple[CoverageSummary, ...] = ()
    notes: tuple[str, ...] = ()
    resolved: tuple[Finding, ...] = ()
    scan_id: int | None = None
    fail_on: Literal["any", "new"] = "any"
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def drift(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status in DRIFT_STATUSES)

    @property
    def failing(self) -> tuple[Finding, ...]:
        """The findings the exit code counts (see ``fail_on``)."""
        statuses = NEW_STATUSES if self.fail_on == "new" else DRIFT_STATUSES
        return tuple(f for f in self.findings if f.status in statuses)

    @property
    def complete(self) -> bool:
        return all(not c.gaps for c in self.coverage)

    def exit_code(self, strict: bool = False) -> int:
        """0 no drift, 2 drift; with ``strict``, 3 when nothing drifted but something could not be checked."""
        if self.failing:
            return EXIT_DRIFT
        if strict and not self.complete:
            return EXIT_INCOMPLETE
        return EXIT_OK

    def summary(self, strict: bool = False) -> dict[str, object]:
        sev: Counter[str] = Counter(f.severity for f in self.findings)
        return {
            "findings": len(self.findings),
            "drift": len(self.drift),
            "by_kind": dict(sorted(Counter(f.kind for f in self.findings).items())),
            "by_severity": {s: sev[s] for s in SEVERITIES if sev[s]},
            "by_status": dict(sorted(Counter(f.status for f in self.findings).items())),
            "expected": len(self.expected),
            "ignored": len(self.ignored),
            "resolved": len(self.resolved),
            "complete": self.complete,
            "exit_code": self.exit_code(strict),
        }


def sort_findings(findings: tuple[Finding, ...] | list[Finding]) -> tuple[Finding, ...]:
    """Most severe first, then by kind, type and key: stable, readable order for every format."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return tuple(sorted(findings, key=lambda f: (rank[f.severity], f.kind, f.type, f.key, f.detail)))
