"""Markdown for pull-request comments and wikis: a summary table, then each finding's changes."""

from __future__ import annotations

from parity.report.model import Report, sort_findings
from parity.report.values import TWO_SIDED, age, short, side_labels, visible


def _cell(text: str) -> str:
    # A pipe or newline inside a cell would break the table; backticks would break inline code.
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render(report: Report, strict: bool = False, color: bool = False) -> str:
    s = report.summary(strict)
    out = [f"# parity: {_cell(report.title)}", ""]
    out.append(
        f"**{s['drift']} drift finding(s)**, {s['findings']} in all; {s['expected']} expected difference(s), "
        f"{s['ignored']} ignored" + (f", {s['resolved']} resolved" if s["resolved"] else "") + "."
    )
    out.append("")
    findings = sort_findings(report.findings)
    if findings:
        out += ["| severity | kind | status | type | key | environments | message |", "|---|---|---|---|---|---|---|"]
        for f in findings:
            status: str = f.status
            if f.first_seen is not None and f.status in ("open", "recurring", "accepted"):
                status += f" ({age((report.generated_at - f.first_seen).total_seconds())})"
            out.append(
                f"| {f.severity} | {f.kind} | {status} | `{_cell(f.type)}` | `{_cell(f.key)}` | "
                f"{', '.join(f.environments)} | {_cell(f.message)} |"
            )
        out.append("")
        for f in findings:
            if not f.changes and not f.notes:
                continue
            out.append(f"### `{_cell(f.key)}` ({f.kind}, {f.id})")
            out.append("")
            left, right = side_labels(f.kind, f.environments)
            if f.changes and f.kind not in TWO_SIDED:
                out += ["| path | value |", "|---|---|"]
                for c in f.changes:
                    v = c.left if c.left is not None else c.right
                    out.append(f"| `{_cell(c.path)}` | `{_cell(short(v))}` |")
                out.append("")
            elif f.changes:
                out += [f"| path | {left} | {right} |", "|---|---|---|"]
                for c in f.changes:
                    out.append(f"| `{_cell(c.path)}` | `{_cell(short(c.left))}` | `{_cell(short(c.right))}` |")
                out.append("")
            for n in f.notes:
                out.append(f"- {_cell(n)}")
            if f.notes:
                out.append("")
    if report.expected:
        out += ["## Expected differences", "", "| type | key | path | values | reason |", "|---|---|---|---|---|"]
        for e in report.expected:
            vals = f"{short(e.change.left, 40)} → {short(e.change.right, 40)}"
            cells = (
                f"`{_cell(e.type)}`",
                f"`{_cell(e.key)}`",
                f"`{_cell(e.change.path)}`",
                _cell(vals),
                _cell(e.reason),
            )
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    if report.ignored:
        out += ["## Ignored", ""]
        for f in report.ignored:
            out.append(f"- `{_cell(f.key)}` ({f.kind}): {_cell(f.message)}")
        out.append("")
    if report.coverage:
        out += [
            "## Coverage",
            "",
            "| environment | sources | resources | managed / live | gaps |",
            "|---|---|---|---|---|",
        ]
        for cov in report.coverage:
            ratio = f"{cov.managed}/{cov.live} ({cov.ratio:.0%})" if cov.ratio is not None else "n/a (no live source)"
            gaps = "; ".join(f"{g.scope}: {g.reason}" for g in cov.gaps) or "none"
            out.append(
                f"| {cov.environment} | {len(cov.sources)} | {sum(x.resources for x in cov.sources)} | {ratio} | "
                f"{_cell(gaps)} |"
            )
        out.append("")
    for n in report.notes:
        out.append(f"> {_cell(n)}")
    return visible("\n".join(out).rstrip()) + "\n"  # no control character of a value reaches the reader
