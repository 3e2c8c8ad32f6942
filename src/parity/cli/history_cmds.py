"""``parity history`` and ``parity accept``: the stored record of scans, changes, resources and findings."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.table import Table
from rich.text import Text

from parity.cli.common import DEFAULT_CONFIG_PATH, ConfigOpt, Format, err_console, load
from parity.cli.compare_cmds import open_store
from parity.errors import ParityError, UsageError

# The store (sqlalchemy, alembic), the timelines and the report helpers are imported where they are used:
# this module's top level is loaded for every command (see parity.cli.common).
if TYPE_CHECKING:
    from parity.model import Finding
    from parity.store import Store


def _out(fmt: Format, tables: list[Table], data: Any) -> None:
    """Print to standard output; one that cannot be written (a full disk) is one error line, not a crash."""
    try:
        if fmt is Format.json:
            sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
            sys.stdout.flush()
        else:
            from rich.console import Console

            console = Console(highlight=False)
            for t in tables:
                console.print(t)
    except BrokenPipeError:
        raise  # the reader went away (| head): nothing to say to it
    except OSError as e:
        raise ParityError(f"cannot write to standard output: {e.strerror or e}") from None


def _text(value: str) -> Text:
    """A cloud- or user-supplied string for a table cell or title: never markup, control characters visible
    (a resource named ``x[/]`` crashed rich's markup parser; an escape sequence in one acted on the terminal)."""
    from parity.report.values import visible

    return Text(visible(value))


def _when(t: dt.datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def _open_for(f: Finding, now: dt.datetime) -> str:
    from parity.report.values import age

    if f.first_seen is None or f.status == "resolved":
        return ""
    return age((now - f.first_seen).total_seconds())


def _findings_table(rows: list[Finding], title: str) -> Table:
    now = dt.datetime.now(dt.UTC)
    t = Table(title=_text(title), title_justify="left")
    for col in ("id", "status", "severity", "kind", "resource", "first seen", "last seen", "open for"):
        t.add_column(col, overflow="fold")
    for f in rows:
        t.add_row(
            f.id,
            f.status,
            f.severity,
            f.kind,
            _text(f"{f.type} {f.key}"),
            _when(f.first_seen),
            _when(f.last_seen),
            _open_for(f, now),
        )
    return t


def _resource_history(store: Store, envs: list[str], pattern: str, fmt: Format) -> None:
    from parity.cli import timeline
    from parity.serialize import finding_to_dict

    lines = timeline.timelines(store, envs, pattern)
    if not lines:
        raise UsageError(f"no stored resource matches {pattern!r} (a key, id, name or glob; see `parity history`)")
    shown = lines[: timeline.MAX_RESOURCES]
    about = timeline.findings_about(store.findings(), shown)
    if fmt is Format.json:
        data = {
            "resource": pattern,
            "timelines": [t.to_dict() for t in shown],
            "findings": [finding_to_dict(f) for f in about],
        }
        _out(fmt, [], data)
        return
    tables: list[Table] = []
    for line in shown:
        first, last = line.versions[0].span, line.versions[-1].span
        seen = f"first seen {_when(first.from_time)} (scan #{first.from_scan}), " + (
            "present now" if line.present else f"gone since {_when(last.until_time)} (scan #{last.until_scan})"
        )
        t = Table(
            title=_text(f"{line.environment}: {line.type} {line.id} ({line.source}); {seen}"), title_justify="left"
        )
        for col in ("scan", "when (UTC)", "event", "changed paths"):
            t.add_column(col, overflow="fold")
        for i, v in enumerate(line.versions):
            prev = line.versions[i - 1].span if i else None
            if prev is not None and v.event == "re-added" and prev.until_scan is not None:
                t.add_row(f"#{prev.until_scan}", _when(prev.until_time), "removed", "")
            paths = v.paths[: timeline.MAX_PATHS]
            more = f" (+{len(v.paths) - len(paths)} more)" if len(v.paths) > len(paths) else ""
            t.add_row(f"#{v.span.from_scan}", _when(v.span.from_time), v.event, _text(", ".join(paths) + more))
        if last.until_scan is not None:
            t.add_row(f"#{last.until_scan}", _when(last.until_time), "removed", "")
        tables.append(t)
    if len(lines) > len(shown):
        tables.append(Table(title=f"… and {len(lines) - len(shown)} more resources match: narrow the pattern"))
    tables.append(_findings_table(about, f"findings about {pattern}" if about else f"no findings about {pattern}"))
    _out(fmt, tables, None)


def _changes_tables(changes: dict[int, dict[str, Any]]) -> list[Table]:
    from parity.cli import timeline

    tables: list[Table] = []
    for scan_id in sorted(changes, reverse=True):
        for env, d in sorted(changes[scan_id].items()):
            t = Table(
                title=_text(f"scan #{scan_id}, {env}: changes since scan #{d['since_scan']}"), title_justify="left"
            )
            for col in ("change", "type", "resource", "source", "paths"):
                t.add_column(col, overflow="fold")
            for what in ("added", "removed", "changed"):
                for c in d[what]:
                    paths = c.get("paths", [])[: timeline.MAX_PATHS]
                    t.add_row(what, _text(c["type"]), _text(c["id"]), _text(c["source"]), _text(", ".join(paths)))
            if not t.row_count:
                t.add_row("none", "", "", "", "")
            tables.append(t)
    return tables


# The views below are tables or JSON; a report format (markdown, sarif, junit) has no meaning for them.
_HISTORY_FORMATS = (Format.table, Format.json)
DEFAULT_LIMIT = 20

HistoryFormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table or json (markdown, sarif and junit describe a scan, not its history: refused).",
        case_sensitive=False,
    ),
]


def _check_options(
    resource: str | None, findings: bool, status: str | None, changes: bool | None, limit: int | None
) -> None:
    """history shows one of three views; an option of another view is an error, never silently ignored
    (``parity history --status recurring -f json`` printed the scan list, which a script took for findings)."""
    view = "parity history RESOURCE" if resource is not None else "parity history --findings" if findings else None
    given = [
        name
        for name, on in (
            ("--findings", findings and resource is not None),
            ("--status", status is not None and resource is not None),
            ("--changes/--no-changes", changes is not None and view is not None),
            ("--limit", limit is not None and view is not None),
        )
        if on
    ]
    if given:
        raise UsageError(f"{view} does not take {', '.join(given)}")
    if status is not None and not findings:
        raise UsageError("--status filters findings: use it with --findings (parity history --findings --status ...)")


def history(
    resource: Annotated[
        str | None,
        typer.Argument(help="A resource (key, id, name or glob): its timeline in each environment, and its findings."),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", "-e", help="Only this environment of parity.yaml (its scans, findings or timeline)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help=f"How many scans to show, newest first [default: {DEFAULT_LIMIT}].", min=1)
    ] = None,
    findings: Annotated[
        bool, typer.Option("--findings", help="List every finding ever seen, with status, first and last seen.")
    ] = False,
    status: Annotated[
        str | None, typer.Option(help="With --findings: only this status (new, open, accepted, resolved, recurring).")
    ] = None,
    changes: Annotated[
        bool | None,
        typer.Option(
            "--changes/--no-changes",
            help="With each scan, what changed since the previous scan of each environment (resources added, "
            "removed, changed, with the paths). Default: shown with --env.",
        ),
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: HistoryFormatOpt = Format.table,
) -> None:
    """Show stored scans, a resource's timeline, or every finding.

    Three views: the stored scans (newest first) and what changed between them; one resource's timeline
    in each environment, with its findings (parity history RESOURCE); or with --findings the lifecycle
    of every finding ever seen. An option of another view is an error, never silently ignored.

    Exit codes: 0 shown (also when nothing is stored yet), 1 error (an unknown environment, no stored
    resource matching RESOURCE, an option of another view).

    \b
    Examples:
      parity history -e production
      parity history --findings --status open
      parity history 'aws_sqs_queue.*'
    """
    from parity.cli import timeline
    from parity.serialize import finding_to_dict

    if fmt not in _HISTORY_FORMATS:
        raise UsageError(
            f"history prints --format {' or '.join(f.value for f in _HISTORY_FORMATS)}, not {fmt.value}"
            " (the other formats are for scan, diff and drift reports)"
        )
    _check_options(resource, findings, status, changes, limit)
    loaded = load(config)
    if env is not None:
        loaded.check_environments([env])
    store = open_store(loaded)
    try:
        if resource is not None:
            envs = [env] if env else list(loaded.config.environments)
            _resource_history(store, envs, resource, fmt)
            return
        if findings:
            rows = store.findings(status=status, environment=env)
            _out(fmt, [_findings_table(rows, "findings")], [finding_to_dict(f) for f in rows])
            return
        scans = store.scans(limit=limit or DEFAULT_LIMIT, environment=env)
        show_changes = changes if changes is not None else env is not None
        envs = [env] if env else list(dict.fromkeys(e for s in scans for e in s.environments))
        deltas = timeline.scan_changes(store, scans, envs) if show_changes else {}
        t = Table(title="scans", title_justify="left")
        for col in ("scan", "started (UTC)", "took", "environments", "resources", "findings by status"):
            t.add_column(col, overflow="fold")
        if show_changes:
            t.add_column("changes since the previous scan", overflow="fold")
        data = []
        for s in scans:
            took = (s.finished_at - s.started_at).total_seconds()
            by_status = ", ".join(f"{k} {v}" for k, v in sorted(s.findings.items())) or "none"
            res = ", ".join(f"{k} {v}" for k, v in sorted(s.resources.items()))
            row: list[str | Text] = [
                f"#{s.id}",
                s.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                f"{took:.1f}s",
                _text(", ".join(s.environments)),
                _text(res),
                by_status,
            ]
            item: dict[str, Any] = {
                "id": s.id,
                "started_at": s.started_at.isoformat(),
                "finished_at": s.finished_at.isoformat(),
                "environments": list(s.environments),
                "resources": dict(s.resources),
                "findings_by_status": dict(s.findings),
            }
            if show_changes:
                mine = deltas.get(s.id, {})
                row.append(
                    _text(
                        "; ".join(
                            f"{e}: +{len(d['added'])} -{len(d['removed'])} ~{len(d['changed'])}"
                            for e, d in sorted(mine.items())
                        )
                        or "first scan"
                    )
                )
                item["changes"] = mine
            t.add_row(*row)
            data.append(item)
        if not scans and fmt is not Format.json:
            err_console.print("no scans stored yet: run `parity scan`")
            return
        _out(fmt, [t, *(_changes_tables(deltas) if show_changes else [])], data)
    finally:
        store.close()


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--expires {value!r} is not a date (YYYY-MM-DD)") from None


def accept(
    finding: Annotated[str, typer.Argument(help="The finding id (or a unique prefix of 6+ characters).")],
    owner: Annotated[str, typer.Option(help="Who accepts the risk (a person or team; at most 255 characters).")],
    reason: Annotated[str, typer.Option(help="Why this divergence is tolerated.")],
    expires: Annotated[str, typer.Option(help="Until when (YYYY-MM-DD); the finding comes back after it.")],
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
) -> None:
    """Accept a finding until a date, so it no longer fails CI.

    The finding shows as 'accepted' and no longer counts as drift for the exit code; when the acceptance
    expires it comes back with a note. Accepting again replaces the acceptance. Only findings a
    `parity scan` stored can be accepted (ids are in every report and in `parity history --findings`).

    Exit codes: 0 accepted, 1 error (an unknown or ambiguous id, a date in the past, an empty owner).

    \b
    Examples:
      parity accept 7b434ada8f81ce7d --owner ana@example.com \\
        --reason "Postgres 15.7 tried in production first, OPS-12" --expires 2027-03-31
    """
    until = _parse_date(expires)
    if until < dt.date.today():
        raise UsageError(f"--expires {expires} is in the past")
    if not owner.strip() or not reason.strip():
        raise UsageError("--owner and --reason must not be empty")
    loaded = load(config)
    store = open_store(loaded)
    try:
        f = store.accept(finding, owner=owner, reason=reason, expires=until)
    finally:
        store.close()
    said = f"accepted {f.id} ({f.kind} {f.type} {f.key}) until {until.isoformat()}, owner {owner.strip()}"
    if f.status == "resolved":
        said += "; it is resolved now: the acceptance applies if it comes back"
    err_console.print(_text(said), soft_wrap=True)  # one line, whatever the width
