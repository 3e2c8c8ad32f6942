"""Watch jobs: which environments a watched scan of one environment covers, and when it is due.

A job for environment E scans E **together with its mirror partners** (the environments E is paired with in
``mirrors``, or its neighbours in ``promotion``): one scan then compares the pairs among them, code with live in
each, and records every environment it read. Finding resolution stays exact because the store resolves only
findings whose environments were all in the scan; a pair that involves an environment outside the job (dev vs
staging, when production is watched) is left alone until a job that covers both runs.

``every`` jobs are due ``every`` after the last watched scan of E *started* (by any watcher, as recorded with
the leases in the store), so a restarted watcher does not rescan at once and two watchers share the work.
``cron`` jobs are due at the cron expression's next time (in ``watch.timezone``) after the previous slot.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from croniter import croniter

from parity.config import ParityConfig
from parity.watch.settings import Schedule


@dataclass
class Job:
    environment: str
    environments: tuple[str, ...]  # what the scan covers: the environment and its mirror partners
    schedule: Schedule
    cron_next: dt.datetime | None = None  # cron jobs: the next slot
    not_before: dt.datetime | None = None  # after "busy": wait a little before trying again

    def due_at(self, last_started: Mapping[str, dt.datetime], now: dt.datetime) -> dt.datetime:
        if self.schedule.every is not None:
            last = last_started.get(self.environment)
            due = now if last is None else last + dt.timedelta(seconds=self.schedule.every)
        else:
            assert self.cron_next is not None
            due = self.cron_next
        if self.not_before is not None and self.not_before > due:
            return self.not_before
        return due

    def advance(self, slot: dt.datetime, now: dt.datetime, zone: str) -> None:
        """After a cron slot ran (or another watcher ran it): the next slot after both ``slot`` and ``now``."""
        self.not_before = None
        if self.schedule.cron is not None:
            self.cron_next = next_cron(self.schedule.cron, max(slot, now), zone)


def next_cron(expr: str, after: dt.datetime, zone: str) -> dt.datetime:
    local = after.astimezone(zoneinfo.ZoneInfo(zone))
    nxt = croniter(expr, local).get_next(dt.datetime)
    assert isinstance(nxt, dt.datetime)
    return nxt.astimezone(dt.UTC)


def scan_set(cfg: ParityConfig, env: str) -> tuple[str, ...]:
    """``env`` and its mirror partners, in the config's environment order."""
    partners = {b for a, b in cfg.mirror_pairs() if a == env} | {a for a, b in cfg.mirror_pairs() if b == env}
    return tuple(e for e in cfg.environments if e == env or e in partners)


def make_jobs(cfg: ParityConfig, only: list[str] | None, now: dt.datetime) -> list[Job]:
    jobs = []
    for env in only or list(cfg.environments):
        sched = cfg.watch.schedule_for(env)
        job = Job(env, scan_set(cfg, env), sched)
        if sched.cron is not None:
            job.cron_next = next_cron(sched.cron, now, cfg.watch.timezone)
        jobs.append(job)
    return jobs
