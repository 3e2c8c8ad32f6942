"""``parity scan``, ``parity diff`` and ``parity drift``: collect, compare, report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from parity.cli.common import (
    DEFAULT_CONFIG_PATH,
    ConfigOpt,
    Format,
    FormatOpt,
    OutputOpt,
    ProgressOpt,
    StrictOpt,
    emit,
    load,
    progress_display,
    redactor_for,
)

# The pipeline (every source, boto3 among them) and the store (sqlalchemy, alembic) are imported by the
# functions that use them: this module's top level is loaded for every command (see parity.cli.common).
if TYPE_CHECKING:
    from parity.config import LoadedConfig
    from parity.pipeline import Analysis, ScanMemo
    from parity.report import Report
    from parity.store import Store


class FailOn(StrEnum):
    any = "any"
    new = "new"


def _report(title: str, a: Analysis, store: Store | None, scan_id: int | None = None) -> Report:
    from parity.report import Report

    findings = store.annotate(a.findings) if store is not None else a.findings
    return Report(
        title=title,
        findings=tuple(findings),
        expected=tuple(a.expected),
        ignored=tuple(a.ignored),
        coverage=tuple(a.coverage),
        notes=tuple(a.notes),
        scan_id=scan_id,
    )


def open_store(loaded: LoadedConfig) -> Store:
    from parity.store import Store

    store = Store(loaded.store_url())
    store.migrate()
    return store


def run_scan(
    loaded: LoadedConfig,
    envs: list[str] | None,
    *,
    progress: bool = True,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    alerts: bool = False,
    memo: ScanMemo | None = None,
) -> Report:
    """Collect every (or the named) environment, compare every mirror pair among them, follow artifacts along
    the promotion path, store, report. ``now`` (tests) stands for the clock: the scan is recorded at it.
    With ``alerts``, the scan's new and recurring findings are queued in the store's outbox in the same
    transaction, for each notifier of ``alerts:`` (delivered afterwards: :mod:`parity.alerts.deliver`).
    ``memo``: kept by a long-running caller between scans (see :class:`parity.pipeline.ScanMemo`)."""
    from parity.alerts.payload import alert_queue
    from parity.pipeline import analyse, attribute_findings, collect
    from parity.report import Report

    cfg = loaded.config
    names = loaded.check_environments(envs) if envs else list(cfg.environments)
    started = now or dt.datetime.now(dt.UTC)
    with progress_display(progress) as cb:
        if memo is not None:
            memo.rotate()
        inventories = collect(
            loaded, names, redactor_for(loaded), cb, memo.canonical if memo else None, processes=memo is None
        )
        pairs = [p for p in cfg.mirror_pairs() if p[0] in names and p[1] in names]
        store = open_store(loaded)
        try:
            a = analyse(
                loaded,
                inventories,
                mirrors=pairs,
                code_live=names,
                pipelines=True,
                permissions=True,
                promotion=True,
                store=store,
                now=started,
                today=today,
                progress=cb,
                memo=memo.comparison if memo else None,
            )
            attribute_findings(loaded, a, inventories, store, now=started, progress=cb)
            if cb:
                cb("storing the scan")
            rec = store.record_scan(
                environments=names,
                snapshots=[s for inv in inventories.values() for s in inv.snapshots],
                findings=a.findings,
                started_at=started,
                finished_at=now or dt.datetime.now(dt.UTC),
                today=today,
                alerts=alert_queue(cfg.alerts, "scan of " + ", ".join(names), names, a.coverage) if alerts else None,
            )
        finally:
            store.close()
    return Report(
        title="scan of " + ", ".join(names),
        findings=tuple(rec.findings),
        expected=tuple(a.expected),
        ignored=tuple(a.ignored),
        coverage=tuple(a.coverage),
        notes=tuple(a.notes),
        resolved=tuple(rec.resolved),
        scan_id=rec.scan_id,
    )


def scan(
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            "-e",
            help="Scan only this environment of parity.yaml (repeatable). Default: every environment.",
        ),
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    strict: StrictOpt = False,
    progress: ProgressOpt = True,
    alerts: Annotated[
        bool,
        typer.Option(
            "--alerts/--no-alerts",
            help="Send new and recurring findings to the notifiers under alerts: in parity.yaml.",
        ),
    ] = True,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="'any': exit 2 while any drift is unaccepted (CI gates). 'new': exit 2 only for new or recurring "
            "findings (scheduled scans that should page once, not every run).",
            case_sensitive=False,
        ),
    ] = FailOn.any,
) -> None:
    """Scan every environment, store the scan, report drift.

    Collects every environment (or those given with -e), compares each mirror pair and, inside each
    environment, code with what is live, stores the scan and reports. Findings get a lifecycle across
    scans (new, open, accepted, resolved, recurring). With `alerts:` in parity.yaml, new and recurring
    findings are sent (one message per notifier; queued alerts of earlier runs first); `--no-alerts`
    neither queues nor sends.

    Exit codes: 0 no drift, 2 drift found (with --fail-on new: new or recurring drift), 1 error,
    3 coverage incomplete (with --strict).

    \b
    Examples:
      parity scan
      parity scan -e production --strict
      parity scan --format sarif -o parity.sarif
    """
    loaded = load(config)
    report = dataclasses.replace(run_scan(loaded, env, progress=progress, alerts=alerts), fail_on=fail_on.value)
    if alerts and loaded.config.alerts:
        send_alerts(loaded)
    raise typer.Exit(emit(report, fmt, output, strict))


def send_alerts(loaded: LoadedConfig) -> None:
    """Deliver the queued alerts (a few seconds of retries at most); failures are warnings, never the exit code."""
    from parity.alerts.deliver import drain

    store = open_store(loaded)
    try:
        drain(store, loaded.config.alerts, log=_warn)
    finally:
        store.close()


def _warn(line: str) -> None:
    sys.stderr.write(f"parity: alerts: {line}\n")
    sys.stderr.flush()


def diff(
    env_a: Annotated[str, typer.Argument(help="The earlier environment, e.g. staging.")],
    env_b: Annotated[str, typer.Argument(help="The later environment, e.g. production.")],
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    strict: StrictOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Compare two environments now, without storing anything.

    Reports what exists in only one (only_in), what differs beyond the declared expected differences
    (differs), and references from one into the other (cross_env_reference). Nothing is stored;
    acceptances recorded with `parity accept` still apply.

    Exit codes: 0 no drift, 2 drift found, 1 error, 3 coverage incomplete (with --strict).

    \b
    Examples:
      parity diff staging production
      parity diff staging production --format markdown -o drift.md
    """
    from parity.pipeline import analyse, collect

    loaded = load(config)
    names = loaded.check_environments([env_a, env_b])
    with progress_display(progress) as cb:
        inventories = collect(loaded, names, redactor_for(loaded), cb)
        a = analyse(loaded, inventories, mirrors=[(env_a, env_b)], code_live=[], progress=cb)
    store = open_store(loaded)
    try:
        report = _report(f"{env_a} vs {env_b}", a, store)
    finally:
        store.close()
    raise typer.Exit(emit(report, fmt, output, strict))


def drift(
    env: Annotated[str, typer.Argument(help="The environment to check, e.g. production.")],
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
    strict: StrictOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Compare one environment's code with what is live in it.

    Reports unmanaged (live, in no code), missing (in code, not live) and changed (live differs from
    code), with the managed/live coverage figure. Needs a live source in the environment (a source with
    `role: live`, or a live kind). Nothing is stored.

    Exit codes: 0 no drift, 2 drift found, 1 error, 3 coverage incomplete (with --strict).

    \b
    Examples:
      parity drift production
      parity drift production --format json -o drift.json
    """
    from parity.pipeline import analyse, collect

    loaded = load(config)
    names = loaded.check_environments([env])
    with progress_display(progress) as cb:
        inventories = collect(loaded, names, redactor_for(loaded), cb)
        a = analyse(loaded, inventories, code_live=[env], references=False, progress=cb)
    if not any(s.role == "live" for s in inventories[env].snapshots):
        a.notes.append(f"{env} has no live source: nothing to compare its code with (add a live source)")
    store = open_store(loaded)
    try:
        report = _report(f"drift in {env}", a, store)
    finally:
        store.close()
    raise typer.Exit(emit(report, fmt, output, strict))
