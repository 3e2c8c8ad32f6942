"""``parity watch``: scan on a schedule per environment, send alerts, serve Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

import typer

from parity.cli.common import DEFAULT_CONFIG_PATH, ConfigOpt, load


def watch(
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            "-e",
            help="Watch only this environment of parity.yaml (repeatable). Default: every environment.",
        ),
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Serve Prometheus metrics on this port (0: any free port). Default: watch.metrics_port of "
            "parity.yaml; none there: no metrics served.",
            min=0,
            max=65535,
        ),
    ] = None,
    alerts: Annotated[
        bool,
        typer.Option(
            "--alerts/--no-alerts",
            help="Send new and recurring findings to the notifiers under alerts: in parity.yaml.",
        ),
    ] = True,
    once: Annotated[bool, typer.Option("--once", help="Scan each watched environment once now, then exit.")] = False,
) -> None:
    """Scan on a schedule, send alerts, serve Prometheus metrics.

    Scans continuously: each environment (with its mirror partners) on its `watch:` schedule in
    parity.yaml (default every 15 minutes), every scan stored, alerts for new and recurring findings,
    metrics for Prometheus.

    Two watchers on one store never scan one environment at once (leases in the store). A failing source is
    recorded and the watch goes on. SIGTERM or Ctrl-C stops it cleanly: a scan in progress is abandoned
    whole (the store keeps the previous complete scan), alerts already queued are sent on the next start.

    Exit code: 0 when stopped by a signal or after --once; 1 on a bad config or store, or when a scan of
    --once failed. Drift never changes the exit code: alerts and metrics report it.

    \b
    Examples:
      parity watch
      parity watch -e production --metrics-port 9108
      parity watch --once
    """
    from parity.gcpause import freeze_after_pauses
    from parity.watch.runner import Watcher  # the watch loop's imports (prometheus) only for this command

    freeze_after_pauses(False)  # a long-running process: what is frozen would never be collected
    loaded = load(config)
    envs = loaded.check_environments(env) if env else None
    raise typer.Exit(Watcher(loaded, environments=envs, alerts=alerts, metrics_port=metrics_port, once=once).run())
