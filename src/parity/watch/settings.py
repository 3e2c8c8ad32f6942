"""The ``watch:`` section of parity.yaml: when each environment is scanned, and where metrics are served.

Kept apart from :mod:`parity.config` (which imports it) so the schema stays small per module; nothing here
imports the rest of the watch package.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Annotated, Any

from croniter import CroniterBadDateError, croniter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)([smhd]))")


_MAX_SECONDS = 3650 * 86400.0  # ten years
MIN_LEASE_S = 30.0


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"30s"``, ``"15m"``, ``"1h30m"``, ``"2d"`` (a number alone is seconds)."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a text like 30s, 15m, 1h30m, 1d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        elif text and _DURATION.sub("", text) == "":
            seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text))
        else:
            raise ValueError(f"{value!r} is not a duration: use e.g. 30s, 15m, 1h30m, 1d")
    else:
        raise ValueError("a duration is a number of seconds or a text like 30s, 15m, 1h30m, 1d")
    if seconds <= 0:
        raise ValueError(f"{value!r}: a duration must be positive")
    if seconds > _MAX_SECONDS:  # date arithmetic and sleeps overflow long before "never"
        raise ValueError(f"{value!r}: a duration is at most {_MAX_SECONDS // 86400:,.0f}d")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^(\d+(\.\d+)?[smhd])+$"},
            ],
            "description": "Seconds, or a text like 30s, 15m, 1h30m, 1d.",
        }
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Strict):
    """When to scan: ``every`` (an interval) or ``cron`` (a 5-field cron expression), exactly one."""

    every: Duration | None = Field(default=None, description="Interval between scans, e.g. 15m.")
    cron: str | None = Field(default=None, description="A cron expression, e.g. '*/10 * * * *' (watch.timezone).")

    @field_validator("cron")
    @classmethod
    def _cron_valid(cls, v: str | None) -> str | None:
        if v is not None and (len(v.split()) != 5 or not croniter.is_valid(v)):
            raise ValueError(f"{v!r} is not a 5-field cron expression (minute hour day month weekday)")
        if v is not None:
            try:  # valid syntax that names no date (the 31st of April) would stop the watch at its start
                croniter(v, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
            except CroniterBadDateError:
                raise ValueError(f"{v!r} never fires (no such date): check the day and month fields") from None
        return v

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' (e.g. 15m) or 'cron' (e.g. '*/10 * * * *')")
        return self


class WatchConfig(_Strict):
    """``parity watch``: a schedule per environment, the lease that keeps two watchers apart, metrics."""

    default: Schedule = Field(
        default_factory=lambda: Schedule(every=900.0),
        description="The schedule of every environment not listed under 'environments' (default: every 15m).",
    )
    environments: dict[str, Schedule] = Field(default_factory=dict, description="Per-environment schedules.")
    timezone: str = Field(default="UTC", description="Time zone of cron expressions (an IANA name).")
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="Serve Prometheus metrics on this port (default: not served)."
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address the metrics server listens on.")
    lease: Duration = Field(
        default=600.0,
        description="How long a watcher's claim on an environment lasts unless renewed (renewed every third "
        "of it while a scan runs): a watcher that died frees its environments after this. At least 30s.",
    )

    @field_validator("lease")
    @classmethod
    def _lease_long_enough(cls, v: float) -> float:
        # Renewed every third of it: shorter, a renewal would wait on the scan's own store writes past the
        # lease's end, another watcher would take the environment over mid-scan, and the heartbeat would
        # write to the store in a tight loop.
        if v < MIN_LEASE_S:
            raise ValueError(f"{v:g}s is too short for a lease: at least {MIN_LEASE_S:g}s")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone_known(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as UTC or Europe/Paris)") from None
        return v

    def schedule_for(self, env: str) -> Schedule:
        return self.environments.get(env, self.default)
