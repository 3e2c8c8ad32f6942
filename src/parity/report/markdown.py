"""Markdown for pull-request comments and wikis: a summary table, then each finding's changes."""

from __future__ import annotations

import re

from parity.report.model import Report, sort_findings
from parity.report.values import TWO_SIDED, age, short, side_labels, visible

# Values come from the cloud and from scanned files: an attacker may choose them. In a pull-request comment,
# markdown or HTML in one must show as written, never act: "<!--" hid the rest of the comment, "[x](url)" made
# a link, "`" ended the code span early (and was shown as "'"). Text outside code spans gets the characters
# that open such inline constructs backslash-escaped (CommonMark: any ASCII punctuation may be); a pipe is
# escaped the same way, which GFM tables read as a pipe inside a cell. ("_" is left alone: identifiers are
# full of it, and GFM does not emphasise inside words.)
_INLINE = re.compile(r"([\\`*\[\]<>|~])")
# At the start of a line (a list item's text) these open a block: a heading, a nested list, a quote.
_BLOCK_START = re.compile(r"^([#+=-])")
_ORDERED_START = re.compile(r"^(\d+)([.)])")
_TICKS = re.compile(r"`+")


def _text(text: str) -> str:
    """``text`` as markdown that shows exactly it, on one line (also safe in a table cell)."""
    one = _INLINE.sub(r"\\\1", text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    return _ORDERED_START.sub(r"\1\\\2", _BLOCK_START.sub(r"\\\1", one))


def _code(text: str, table: bool = True) -> str:
    """``text`` as an inline code span that holds it whole: the fence is one backtick longer than any run of
    backticks inside, padded with a space where the text starts or ends with a backtick or space (CommonMark
    strips one). In a table a pipe is escaped; GFM removes the backslash before the code span is read."""
    one = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if not one:
        return "` `"
    fence = "`" * (max((len(m) for m in _TICKS.findall(one)), default=0) + 1)
    pad = " " if one[0] in "` " or one[-1] in "` " else ""
    if table:
        one = one.replace("|", "\\|")
    return f"{fence}{pad}{one}{pad}{fence}"


def render(report: Report, strict: bool = False, color: bool = False) -> str:
    s = report.summary(strict)
    out = [f"# parity: {_text(report.title)}", ""]
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
                f"| {f.severity} | {f.kind} | {status} | {_code(f.type)} | {_code(f.key)} | "
                f"{_text(', '.join(f.environments))} | {_text(f.message)} |"
            )
        out.append("")
        for f in findings:
            if not f.changes and not f.notes:
                continue
            out.append(f"### {_code(f.key, table=False)} ({f.kind}, {f.id})")
            out.append("")
            left, right = side_labels(f.kind, f.environments)
            if f.changes and f.kind not in TWO_SIDED:
                out += ["| path | value |", "|---|---|"]
                for c in f.changes:
                    v = c.left if c.left is not None else c.right
                    out.append(f"| {_code(c.path)} | {_code(short(v))} |")
                out.append("")
            elif f.changes:
                out += [f"| path | {_text(left)} | {_text(right)} |", "|---|---|---|"]
                for c in f.changes:
                    out.append(f"| {_code(c.path)} | {_code(short(c.left))} | {_code(short(c.right))} |")
                out.append("")
            for n in f.notes:
                out.append(f"- {_text(n)}")
            if f.notes:
                out.append("")
    if report.expected:
        out += ["## Expected differences", "", "| type | key | path | values | reason |", "|---|---|---|---|---|"]
        for e in report.expected:
            vals = f"{short(e.change.left, 40)} → {short(e.change.right, 40)}"
            cells = (
                _code(e.type),
                _code(e.key),
                _code(e.change.path),
                _text(vals),
                _text(e.reason),
            )
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    if report.ignored:
        out += ["## Ignored", ""]
        for f in report.ignored:
            out.append(f"- {_code(f.key, table=False)} ({f.kind}): {_text(f.message)}")
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
                f"| {_text(cov.environment)} | {len(cov.sources)} | {sum(x.resources for x in cov.sources)} | "
                f"{ratio} | {_text(gaps)} |"
            )
        out.append("")
    for n in report.notes:
        out.append(f"> {_text(n)}")
    return visible("\n".join(out).rstrip()) + "\n"  # no control character of a value reaches the reader
