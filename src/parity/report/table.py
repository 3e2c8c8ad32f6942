"""The default, human format: rich tables. Every cloud-supplied string goes in as plain Text (never markup)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from parity.report.model import Report, sort_findings
from parity.report.values import TWO_SIDED, age, short, side_labels, visible

_SEV_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
_STATUS_STYLE = {"new": "bold", "recurring": "bold magenta", "open": "", "accepted": "dim green", "resolved": "green"}
MAX_CHANGES_SHOWN = 6


def _findings_table(report: Report) -> Table:
    # The title names environments: plain Text, never markup (an environment named "st[/]g" crashed the report).
    t = Table(title=Text(f"parity: {visible(report.title)}"), title_justify="left", show_lines=True, expand=False)
    t.add_column("severity", no_wrap=True)
    t.add_column("kind", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("resource", overflow="fold")
    t.add_column("what", overflow="fold")
    now = datetime.now(UTC)
    for f in sort_findings(report.findings):
        what = Text(visible(f.message))
        left, right = side_labels(f.kind, f.environments)
        for c in f.changes[:MAX_CHANGES_SHOWN]:
            what.append(f"\n  {visible(c.path)}: ", style="bold")
            if f.kind not in TWO_SIDED:
                what.append(short(c.left if c.left is not None else c.right, 100))
                continue
            what.append(short(c.left, 50))
            what.append(f" ({left}) → ", style="dim")
            what.append(short(c.right, 50))
            what.append(f" ({right})", style="dim")
        if len(f.changes) > MAX_CHANGES_SHOWN:
            what.append(f"\n  … and {len(f.changes) - MAX_CHANGES_SHOWN} more (see --format json)", style="dim")
        for n in f.notes:
            what.append(f"\n  note: {visible(n)}", style="italic")
        status = Text(f.status, style=_STATUS_STYLE.get(f.status, ""))
        if f.first_seen is not None and f.status in ("open", "recurring", "accepted"):
            status.append(f"\n{age((now - f.first_seen).total_seconds())}", style="dim")
        res = Text(visible(f.type), style="dim")
        res.append("\n")
        res.append(visible(f.key))
        res.append(f"\n{f.id}", style="dim")
        t.add_row(
            Text(f.severity, style=_SEV_STYLE.get(f.severity, "")),
            Text(f.kind),
            status,
            res,
            what,
        )
    return t


def _expected_table(report: Report) -> Table:
    t = Table(title="expected differences (declared intended)", title_justify="left")
    t.add_column("resource", overflow="fold")
    t.add_column("path", overflow="fold")
    t.add_column("values", overflow="fold")
    t.add_column("reason", overflow="fold")
    for e in report.expected:
        t.add_row(
            Text(visible(e.key)),
            Text(visible(e.change.path)),
            Text(f"{short(e.change.left, 30)} → {short(e.change.right, 30)}"),
            Text(visible(e.reason)),
        )
    return t


def _coverage_table(report: Report) -> Table:
    t = Table(title="coverage", title_justify="left")
    t.add_column("environment")
    t.add_column("sources", overflow="fold")
    t.add_column("resources", justify="right")
    t.add_column("managed / live", justify="right")
    t.add_column("not checked", overflow="fold")
    for c in report.coverage:
        srcs = Text(visible(", ".join(f"{s.name} ({s.role})" for s in c.sources)))
        ratio = f"{c.managed}/{c.live} ({c.ratio:.0%})" if c.ratio is not None else "–"
        gaps = Text(
            visible("; ".join(f"{g.scope}: {g.reason}" for g in c.gaps)) or "nothing", style="red" if c.gaps else "dim"
        )
        t.add_row(Text(visible(c.environment)), srcs, str(sum(s.resources for s in c.sources)), ratio, gaps)
    return t


def _summary_line(report: Report, strict: bool) -> Text:
    s = report.summary(strict)
    line = Text()
    drift = int(s["drift"])  # type: ignore[call-overload]
    line.append(f"{drift} drift finding(s)", style="bold red" if drift else "bold green")
    line.append(f" · {s['findings']} in all · {s['expected']} expected · {s['ignored']} ignored")
    if s["resolved"]:
        line.append(f" · {s['resolved']} resolved", style="green")
    if report.scan_id is not None:
        line.append(f" · scan #{report.scan_id}", style="dim")
    if not report.complete:
        line.append(" · coverage incomplete", style="bold yellow")
    return line


def build(report: Report, strict: bool = False) -> Group:
    parts: list[Table | Text] = []
    if report.findings:
        parts.append(_findings_table(report))
    else:
        parts.append(Text(f"parity: {visible(report.title)}: no drift found", style="bold green"))
    if report.expected:
        parts.append(_expected_table(report))
    if report.ignored:
        ign = Text("ignored: ", style="dim")
        ign.append(visible(", ".join(f"{f.key} ({f.kind})" for f in report.ignored)), style="dim")
        parts.append(ign)
    if report.coverage:
        parts.append(_coverage_table(report))
    for n in report.notes:
        parts.append(Text(f"note: {visible(n)}", style="italic"))
    parts.append(_summary_line(report, strict))
    return Group(*parts)


def render(report: Report, strict: bool = False, color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=160 if not color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        soft_wrap=False,
    )
    console.print(build(report, strict))
    return buf.getvalue()
