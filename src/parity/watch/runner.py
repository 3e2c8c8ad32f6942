"""The ``parity watch`` loop: scheduled scans per environment, alerts after each, metrics, clean shutdown.

Guarantees and how they are kept:

- **one scan of an environment at a time**, across processes: a scan first leases all its environments in the
  store (:mod:`parity.store.watch_store`); another watcher finds them busy and tries again a little later.
  While the scan runs, a heartbeat thread renews the lease; a watcher that died frees it when it expires.
- **a failing source never stops the loop**: the scan's exception is recorded in ``scan_failures`` (one line,
  no traceback) and counted in the metrics; the next run follows the schedule as usual.
- **SIGTERM / SIGINT never leave half a scan**: the signal sets the stop flag; if a scan is being collected,
  compared or stored, it is abandoned by raising :class:`Shutdown` in it, and the store's transaction rolls
  back (or had committed whole). A signal that arrives inside a store transaction is held until the
  transaction has ended (:mod:`parity.interrupt`): cut inside the driver, a connection could keep SQLite's
  write lock and the watcher's own next write would wait out the busy timeout. Alert delivery is never
  interrupted mid-request: the loop stops after it.
- **alerts exactly once**: queued with the scan, delivered after commit, unsent ones first on start-up.
- **parity.yaml is followed**: a changed file is read again before the next scan (schedules, environments,
  sources, rules, alerts). One that no longer loads (a YAML error, an unknown key, an environment given
  with ``-e`` gone) is reported once per change, in the log and in ``parity_config_valid`` (0), and the
  watch goes on with the last configuration that loaded. The store URL, the metrics address and the
  metrics port are read at start only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from parity.alerts.deliver import deliver, drain
from parity.cli.compare_cmds import open_store, run_scan
from parity.config import LoadedConfig, load_config
from parity.errors import ParityError
from parity.interrupt import set_hook, shielded_now
from parity.pipeline import ScanMemo
from parity.store import Store
from parity.watch.metrics import WatchMetrics, serve
from parity.watch.schedule import Job, make_jobs

BUSY_RETRY_S = 5.0  # an environment leased by another watcher: look again after this
MAX_SLEEP_S = 5.0  # the loop wakes at least this often (alerts due, schedules)


class Shutdown(BaseException):
    """Raised inside a running scan by SIGTERM/SIGINT to abandon it (BaseException: no source swallows it)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _log(line: str) -> None:
    sys.stderr.write(f"{_now():%Y-%m-%dT%H:%M:%SZ} parity watch: {line}\n")
    sys.stderr.flush()


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if isinstance(e, ParityError) else f"{type(e).__name__}: {text}"


class Watcher:
    """Runs the schedule until stopped. ``once``: run every job one time (now), deliver, return (1 if a scan
    failed, so a cron job notices)."""

    def __init__(
        self,
        loaded: LoadedConfig,
        *,
        environments: list[str] | None = None,
        alerts: bool = True,
        metrics_port: int | None = None,
        once: bool = False,
        log: Callable[[str], None] = _log,
    ) -> None:
        self.loaded = loaded
        self.cfg = loaded.config
        self.only = environments
        self.alerts = alerts
        self.notifiers = list(self.cfg.alerts) if alerts else []
        self.once = once
        self.log = log
        self.stop = threading.Event()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl = dt.timedelta(seconds=self.cfg.watch.lease)
        self.jobs = make_jobs(self.cfg, environments, _now())
        self.metrics = WatchMetrics(list(self.cfg.environments))
        self.metrics_port = metrics_port if metrics_port is not None else self.cfg.watch.metrics_port
        self._interruptible = False
        self.failed_scans = 0
        self.store: Store | None = None
        # What each job's last scan learnt (canonical forms, comparison digests): between two scans of the
        # same environments almost nothing changes. One memo per job, so jobs do not evict each other.
        self.memos: dict[str, ScanMemo] = {}
        # parity.yaml as loaded (stat, digest), and the digest of a changed version that did not load
        self._config_stat = _stat(loaded.path)
        self._config_digest = _digest(loaded.path)
        self._config_rejected: bytes | None = None

    # ------------------------------------------------------------ signals

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop.set()
        if self._interruptible and not shielded_now():  # inside a store transaction: at its end (_stop_if_asked)
            self._interruptible = False
            raise Shutdown(signal.Signals(signum).name)

    def _stop_if_asked(self) -> None:
        """Called where a shielded block of the main thread ends (parity.interrupt): abandon the scan there."""
        if self.stop.is_set() and self._interruptible:
            self._interruptible = False
            raise Shutdown("stopping")

    @contextmanager
    def _abandonable(self) -> Iterator[None]:
        if self.stop.is_set():
            raise Shutdown("stopping")
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    # ------------------------------------------------------------ the loop

    def run(self) -> int:
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        set_hook(self._stop_if_asked)
        server = None
        try:
            self.store = open_store(self.loaded)
            self._load_metrics()
            if self.metrics_port is not None:
                server = serve(self.metrics, self.cfg.watch.metrics_host, self.metrics_port)
                host, port = server.server_address[:2]
                self.log(f"metrics on http://{host!s}:{port}/metrics")
            plan = ", ".join(f"{j.environment} ({_describe(j)})" for j in self.jobs)
            self.log(f"watching {plan} as {self.holder}")
            self._deliver(ignore_backoff=True)  # what a previous run left unsent goes first
            if self.once:
                self._run_once()
            else:
                self._loop()
        except Shutdown:
            pass
        finally:
            set_hook(None)
            for s, handler in previous.items():
                signal.signal(s, handler)
            if server is not None:
                server.shutdown()
                server.server_close()
            if self.store is not None:
                self.store.close()
        self.log("stopped")
        return 1 if self.once and self.failed_scans else 0

    def _loop(self) -> None:
        assert self.store is not None
        while not self.stop.is_set():
            self._reload_config()
            now = _now()
            last = self._last_started()
            dues = sorted(((j.due_at(last, now), i) for i, j in enumerate(self.jobs)), key=lambda t: t[0])
            if dues and dues[0][0] <= now:
                due, i = dues[0]
                self._run_job(self.jobs[i], due)
                self._deliver()
                continue
            wake = [d for d, _ in dues[:1]]
            alert_due = self._safe(self._next_alert_due)
            if alert_due is not None:
                if alert_due <= now:
                    self._deliver()
                    continue
                wake.append(alert_due)
            wait = min([(w - now).total_seconds() for w in wake] + [MAX_SLEEP_S])
            self.stop.wait(max(wait, 0.05))

    def _next_alert_due(self) -> dt.datetime | None:
        ids = [n.id for n in self.notifiers]
        return self.store.next_alert_due(ids) if ids and self.store is not None else None

    # ------------------------------------------------------------ parity.yaml changes

    def _reload_config(self) -> None:
        """Follow parity.yaml: a changed file that loads replaces the configuration (the store URL and the metrics
        endpoint excepted); one that does not is reported once per change and the current one is kept."""
        path = self.loaded.path
        stat = _stat(path)
        if stat == self._config_stat:
            return
        self._config_stat = stat
        digest = _digest(path)
        if digest == self._config_digest:  # touched, not changed; or an invalid edit undone
            if self._config_rejected is not None:
                self._config_rejected = None
                self.metrics.set_config_valid(True)
                self.log(f"{path.name} is back to the configuration in use")
            return
        if digest is not None and digest == self._config_rejected:
            return  # the same invalid text again: reported already
        try:
            loaded = load_config(path)
            if self.only:
                missing = [e for e in self.only if e not in loaded.config.environments]
                if missing:
                    raise ParityError(
                        f"{path}: environment {', '.join(missing)} (watched with -e) is no longer defined"
                    )
        except Exception as e:  # whatever the new file does, the watch goes on with the previous configuration
            self._config_rejected = digest
            self.metrics.set_config_valid(False)
            self.log(f"{path.name} changed but cannot be used, still watching with the previous one: {_one_line(e)}")
            return
        self._config_digest, self._config_rejected = digest, None
        self.metrics.set_config_valid(True)
        if loaded.store_url() != self.loaded.store_url():
            self.log(f"{path.name}: the store changed; restart parity watch to use it (still storing where it was)")
            loaded.config = loaded.config.model_copy(update={"store": self.cfg.store})
        self.loaded, self.cfg = loaded, loaded.config
        self.notifiers = list(self.cfg.alerts) if self.alerts else []
        self.ttl = dt.timedelta(seconds=self.cfg.watch.lease)
        self.jobs = make_jobs(self.cfg, self.only, _now())
        self.metrics.environments = list(self.cfg.environments)
        self.memos = {e: m for e, m in self.memos.items() if e in self.cfg.environments}
        plan = ", ".join(f"{j.environment} ({_describe(j)})" for j in self.jobs)
        self.log(f"{path.name} changed: reloaded; watching {plan}")

    def _run_once(self) -> None:
        start = _now()
        for job in self.jobs:
            if self.stop.is_set():
                break
            self._run_job(job, start)
            self._deliver()
        store = self.store
        if self.notifiers and store is not None and not self.stop.is_set():
            self._safe(lambda: drain(store, self.notifiers, log=self.log))

    # ------------------------------------------------------------ one job

    def _run_job(self, job: Job, due: dt.datetime) -> None:
        assert self.store is not None
        store = self.store
        got = self._safe(
            lambda: store.acquire_environments(
                job.environments, self.holder, self.ttl, job_environment=job.environment, due_at=due
            )
        )
        now = _now()
        if got is None:  # the store is unreachable: logged; try again a little later
            job.not_before = now + dt.timedelta(seconds=BUSY_RETRY_S)
            return
        status, previous = got
        if status == "busy":
            job.not_before = now + dt.timedelta(seconds=BUSY_RETRY_S)
            return
        if status == "done":
            job.advance(due, now, self.cfg.watch.timezone)
            return
        job.advance(due, now, self.cfg.watch.timezone)
        abandoned = False
        with self._heartbeat(job):
            started, t0 = _now(), time.monotonic()
            try:
                with self._abandonable():
                    report = run_scan(
                        self.loaded,
                        list(job.environments),
                        progress=False,
                        alerts=self.alerts,
                        memo=self.memos.setdefault(job.environment, ScanMemo()),
                    )
            except Shutdown:
                abandoned = True
                self.log(f"scan of {', '.join(job.environments)} abandoned: shutting down")
            except Exception as e:
                self._failed(job, started, e)
            else:
                took = time.monotonic() - t0
                self.metrics.scan_done(job.environments, time.time(), took, report.coverage)
                self._refresh_findings()
                counts = report.summary()["by_status"]
                assert isinstance(counts, dict)
                shown = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings"
                self.log(
                    f"scan {report.scan_id} of {', '.join(job.environments)}: {shown}, "
                    f"{len(report.resolved)} resolved ({took:.1f}s)"
                )
        self._safe(lambda: store.release_environments(job.environments, self.holder, previous if abandoned else None))
        if abandoned:
            raise Shutdown("stopping")

    def _failed(self, job: Job, started: dt.datetime, e: Exception) -> None:
        error = _one_line(e)
        self.log(f"scan of {', '.join(job.environments)} failed: {error}")
        if os.environ.get("PARITY_DEBUG"):
            import traceback

            traceback.print_exc()
        self.metrics.scan_failed(job.environment)
        self.failed_scans += 1
        store = self.store
        assert store is not None
        self._safe(lambda: store.record_scan_failure(job.environment, job.environments, started, _now(), error))

    @contextmanager
    def _heartbeat(self, job: Job) -> Iterator[None]:
        """Renew the job's leases every third of their lifetime while the scan runs."""
        done = threading.Event()
        store = self.store
        assert store is not None

        def beat() -> None:
            while not done.wait(self.ttl.total_seconds() / 3):
                try:
                    if not store.renew_environments(job.environments, self.holder, self.ttl):
                        self.log(f"lease on {', '.join(job.environments)} lost (expired and taken over)")
                except Exception as e:  # the store is down: the scan itself will fail to store
                    self.log(f"lease renewal failed: {_one_line(e)}")

        t = threading.Thread(target=beat, name="parity-lease", daemon=True)
        t.start()
        try:
            yield
        finally:
            done.set()
            t.join(timeout=5)

    # ------------------------------------------------------------ alerts, metrics, store access

    def _deliver(self, ignore_backoff: bool = False) -> None:
        store = self.store
        if not self.notifiers or store is None:
            return
        self._safe(
            lambda: deliver(
                store,
                self.notifiers,
                ignore_backoff=ignore_backoff,
                stop=self.stop,
                log=self.log,
                on_result=self.metrics.alert,
            )
        )
        counts = self._safe(store.alert_counts)
        if counts is not None:
            self.metrics.set_pending(counts.get("pending", 0))

    def _last_started(self) -> dict[str, dt.datetime]:
        store = self.store
        assert store is not None
        got = self._safe(store.watch_last_started)
        return got if got is not None else {}

    def _refresh_findings(self) -> None:
        store = self.store
        assert store is not None
        found = self._safe(lambda: store.findings())
        if found is not None:
            self.metrics.set_findings(found)

    def _load_metrics(self) -> None:
        """Last scans, failures and open findings as the store has them, so a restart shows them at once."""
        store = self.store
        assert store is not None
        for env in self.cfg.environments:
            scans = store.scans(limit=1, environment=env)
            if scans:
                s = scans[0]
                self.metrics.set_last_scan(
                    env, s.finished_at.timestamp(), (s.finished_at - s.started_at).total_seconds()
                )
        for env, n in store.scan_failure_counts().items():
            if env in self.cfg.environments:
                self.metrics.scan_failed(env, n)
        self._refresh_findings()

    def _safe(self, fn: Callable[[], Any]) -> Any:
        """``fn()``, or None with a log line when it raises (an unreachable store must not end the loop)."""
        try:
            return fn()
        except Shutdown:
            raise
        except Exception as e:
            self.log(f"store: {_one_line(e)}")
            return None


def _stat(path: os.PathLike[str] | str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _digest(path: os.PathLike[str] | str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).digest()
    except OSError:
        return None


def _describe(job: Job) -> str:
    when = f"every {job.schedule.every:g}s" if job.schedule.every is not None else f"cron {job.schedule.cron}"
    return when + (
        f", with {', '.join(e for e in job.environments if e != job.environment)}" if len(job.environments) > 1 else ""
    )
