"""Reports: one :class:`Report`, rendered as table (rich), json (``parity/findings@1``) or markdown."""

from parity.report.model import (
    DRIFT_STATUSES,
    EXIT_DRIFT,
    EXIT_ERROR,
    EXIT_INCOMPLETE,
    EXIT_OK,
    CoverageSummary,
    Report,
    SourceSummary,
    sort_findings,
)
from parity.report.render import FORMATS, render

__all__ = [
    "DRIFT_STATUSES",
    "EXIT_DRIFT",
    "EXIT_ERROR",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "FORMATS",
    "CoverageSummary",
    "Report",
    "SourceSummary",
    "render",
    "sort_findings",
]
