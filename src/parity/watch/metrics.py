"""Prometheus metrics of ``parity watch``, served on ``watch.metrics_host:metrics_port`` (loopback by default).

A custom collector reads a snapshot of :class:`WatchMetrics` at scrape time, so label sets that disappear (a
kind with no open finding any more) disappear from the output instead of lingering at their last value, and
the last-scan age is computed when scraped. Metrics:

- ``parity_open_findings{environment,kind,severity}``: drift findings (new, open, recurring) naming the environment
- ``parity_coverage_ratio{environment}``: managed / live resources (environments with a live source)
- ``parity_coverage_complete{environment}``: 1 when no source had a coverage gap in the last scan
- ``parity_last_scan_timestamp_seconds{environment}``, ``parity_last_scan_age_seconds{environment}``
- ``parity_last_scan_duration_seconds{environment}``
- ``parity_scans_total{environment}``, ``parity_scan_failures_total{environment}``
- ``parity_alerts_total{notifier,outcome}`` (sent, failed, gave_up), ``parity_alerts_pending``
- ``parity_config_valid``: 0 while parity.yaml has changed into something that cannot be used
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from parity.errors import UsageError
from parity.model import Finding
from parity.report import DRIFT_STATUSES, CoverageSummary


@dataclass
class _EnvState:
    last_scan: float | None = None  # unix time the last scan finished
    duration: float | None = None
    ratio: float | None = None
    complete: bool | None = None


@dataclass(eq=False)  # hashable by identity: the registry keeps collectors in a dict
class WatchMetrics:
    """What the collector exports; updated by the watch loop, read by the scrape thread (under a lock)."""

    environments: Sequence[str]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _envs: dict[str, _EnvState] = field(default_factory=dict)
    _open: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _scans: Counter[str] = field(default_factory=Counter)
    _failures: Counter[str] = field(default_factory=Counter)
    _alerts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _pending: int = 0
    _config_valid: bool = True

    def _env(self, env: str) -> _EnvState:
        return self._envs.setdefault(env, _EnvState())

    def scan_done(
        self, envs: Iterable[str], finished: float, duration: float, coverage: Iterable[CoverageSummary]
    ) -> None:
        cov = {c.environment: c for c in coverage}
        with self._lock:
            for e in envs:
                st = self._env(e)
                st.last_scan, st.duration = finished, duration
                self._scans[e] += 1
                if e in cov:
                    st.ratio = cov[e].ratio
                    st.complete = not cov[e].gaps

    def set_last_scan(self, env: str, finished: float, duration: float) -> None:
        with self._lock:
            st = self._env(env)
            if st.last_scan is None:
                st.last_scan, st.duration = finished, duration

    def scan_failed(self, env: str, n: int = 1) -> None:
        with self._lock:
            self._failures[env] += n

    def set_findings(self, findings: Iterable[Finding]) -> None:
        counts: Counter[tuple[str, str, str]] = Counter()
        for f in findings:
            if f.status in DRIFT_STATUSES:
                for e in set(f.environments):
                    counts[(e, f.kind, f.severity)] += 1
        with self._lock:
            self._open = counts

    def alert(self, notifier: str, outcome: str) -> None:
        with self._lock:
            self._alerts[(notifier, outcome)] += 1

    def set_pending(self, n: int) -> None:
        with self._lock:
            self._pending = n

    def set_config_valid(self, valid: bool) -> None:
        with self._lock:
            self._config_valid = valid

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        with self._lock:
            envs = {e: _EnvState(s.last_scan, s.duration, s.ratio, s.complete) for e, s in self._envs.items()}
            open_, scans, failures = dict(self._open), dict(self._scans), dict(self._failures)
            alerts, pending, config_valid = dict(self._alerts), self._pending, self._config_valid
        g = GaugeMetricFamily(
            "parity_open_findings", "Drift findings (new, open, recurring) naming the environment.",
            labels=["environment", "kind", "severity"],
        )  # fmt: skip
        for (e, kind, sev), n in sorted(open_.items()):
            g.add_metric([e, kind, sev], n)
        yield g
        ratio = GaugeMetricFamily("parity_coverage_ratio", "Managed / live resources.", labels=["environment"])
        complete = GaugeMetricFamily(
            "parity_coverage_complete", "1 when the last scan had no coverage gap.", labels=["environment"]
        )
        ts = GaugeMetricFamily(
            "parity_last_scan_timestamp_seconds", "When the last scan finished (unix time).", labels=["environment"]
        )
        age = GaugeMetricFamily(
            "parity_last_scan_age_seconds", "Seconds since the last scan finished.", labels=["environment"]
        )
        dur = GaugeMetricFamily(
            "parity_last_scan_duration_seconds", "How long the last scan took.", labels=["environment"]
        )
        for e in self.environments:
            s = envs.get(e, _EnvState())
            if s.ratio is not None:
                ratio.add_metric([e], s.ratio)
            if s.complete is not None:
                complete.add_metric([e], 1.0 if s.complete else 0.0)
            if s.last_scan is not None:
                ts.add_metric([e], s.last_scan)
                age.add_metric([e], max(0.0, now - s.last_scan))
            if s.duration is not None:
                dur.add_metric([e], s.duration)
        yield from (ratio, complete, ts, age, dur)
        sc = CounterMetricFamily("parity_scans", "Scans recorded by this watcher.", labels=["environment"])
        fc = CounterMetricFamily("parity_scan_failures", "Watched scans that failed.", labels=["environment"])
        for e in self.environments:
            sc.add_metric([e], scans.get(e, 0))
            fc.add_metric([e], failures.get(e, 0))
        yield from (sc, fc)
        ac = CounterMetricFamily("parity_alerts", "Alert deliveries by outcome.", labels=["notifier", "outcome"])
        for (notifier, outcome), v in sorted(alerts.items()):
            ac.add_metric([notifier, outcome], v)
        yield ac
        yield GaugeMetricFamily("parity_alerts_pending", "Alerts queued and not yet delivered.", value=pending)
        yield GaugeMetricFamily(
            "parity_config_valid",
            "0 when parity.yaml changed and cannot be used (the watch goes on with the previous one).",
            value=1.0 if config_valid else 0.0,
        )


def serve(metrics: WatchMetrics, host: str, port: int) -> WSGIServer:
    """Start the HTTP server (a daemon thread); ``port`` 0 picks a free one (see ``server_address``).
    A port in use or an address that cannot be bound is a :class:`UsageError` naming them."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as e:  # EADDRINUSE, EACCES (a port below 1024), an address not on this host
        why = e.strerror or str(e)
        raise UsageError(
            f"metrics: cannot listen on {host}:{port}: {why} (choose another watch.metrics_port or --metrics-port; "
            "0 picks a free one)"
        ) from None
    return server
