"""Dispatch a report to its format's renderer."""

from __future__ import annotations

from collections.abc import Callable

from parity.report import jsonfmt, junit, markdown, sarif, table
from parity.report.model import Report

Renderer = Callable[[Report, bool, bool], str]

FORMATS: dict[str, Renderer] = {
    "table": table.render,
    "json": jsonfmt.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "junit": junit.render,
}


def render(report: Report, fmt: str, *, strict: bool = False, color: bool = False) -> str:
    """The report as text in ``fmt``; ``color`` only matters for the table on a terminal."""
    return FORMATS[fmt](report, strict, color)
