"""``parity history`` and ``parity accept``: the stored record of scans and findings."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table
from rich.text import Text

from parity.cli.common import DEFAULT_CONFIG_PATH, ConfigOpt, Format, FormatOpt, err_console, load
from parity.cli.compare_cmds import open_store
from parity.errors import UsageError
from parity.serialize import finding_to_dict


def _out(fmt: Format, table: Table, data: Any) -> None:
    if fmt is Format.json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        from rich.console import Console

        Console(highlight=False).print(table)


def history(
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only scans that included this environment.")] = None,
    limit: Annotated[int, typer.Option(help="How many scans to show, newest first.")] = 20,
    findings: Annotated[
        bool, typer.Option("--findings", help="List every finding ever seen, with status, first and last seen.")
    ] = False,
    status: Annotated[
        str | None, typer.Option(help="With --findings: only this status (new, open, accepted, resolved, recurring).")
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: FormatOpt = Format.table,
) -> None:
    """Show stored scans (newest first), or with --findings the lifecycle of every finding."""
    loaded = load(config)
    store = open_store(loaded)
    try:
        if findings:
            rows = store.findings(status=status, environment=env)
            t = Table(title="findings", title_justify="left")
            for col in ("id", "status", "severity", "kind", "resource", "first seen", "last seen"):
                t.add_column(col, overflow="fold")
            for f in rows:
                t.add_row(
                    f.id,
                    f.status,
                    f.severity,
                    f.kind,
                    Text(f"{f.type} {f.key}"),
                    f.first_seen.strftime("%Y-%m-%d %H:%M") if f.first_seen else "",
                    f.last_seen.strftime("%Y-%m-%d %H:%M") if f.last_seen else "",
                )
            _out(fmt, t, [finding_to_dict(f) for f in rows])
            return
        scans = store.scans(limit=limit, environment=env)
        t = Table(title="scans", title_justify="left")
        for col in ("scan", "started (UTC)", "took", "environments", "resources", "findings by status"):
            t.add_column(col, overflow="fold")
        data = []
        for s in scans:
            took = (s.finished_at - s.started_at).total_seconds()
            by_status = ", ".join(f"{k} {v}" for k, v in sorted(s.findings.items())) or "none"
            res = ", ".join(f"{k} {v}" for k, v in sorted(s.resources.items()))
            t.add_row(
                f"#{s.id}",
                s.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                f"{took:.1f}s",
                ", ".join(s.environments),
                res,
                by_status,
            )
            data.append(
                {
                    "id": s.id,
                    "started_at": s.started_at.isoformat(),
                    "finished_at": s.finished_at.isoformat(),
                    "environments": list(s.environments),
                    "resources": dict(s.resources),
                    "findings_by_status": dict(s.findings),
                }
            )
        if not scans and fmt is not Format.json:
            err_console.print("no scans stored yet: run `parity scan`")
            return
        _out(fmt, t, data)
    finally:
        store.close()


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--expires {value!r} is not a date (YYYY-MM-DD)") from None


def accept(
    finding: Annotated[str, typer.Argument(help="The finding id (or a unique prefix of 6+ characters).")],
    owner: Annotated[str, typer.Option(help="Who accepts the risk (a person or team).")],
    reason: Annotated[str, typer.Option(help="Why this divergence is tolerated.")],
    expires: Annotated[str, typer.Option(help="Until when (YYYY-MM-DD); the finding comes back after it.")],
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
) -> None:
    """Accept a finding until a date: it shows as 'accepted' and no longer fails CI; when the acceptance
    expires the finding comes back with a note.

    Example: parity accept 3f2a9c1d --owner ana --reason "prod-only cache, ticket OPS-12" --expires 2027-03-31
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
    err_console.print(Text(f"accepted {f.id} ({f.kind} {f.type} {f.key}) until {until.isoformat()}, owner {owner}"))
