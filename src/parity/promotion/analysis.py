"""Judging the ledger along the promotion path: ``promotion_bypass`` and ``not_backported``.

For every pair of consecutive stages (``earlier``, ``later``) of ``promotion``:

- **promotion_bypass**: an artifact present in ``later`` that ``earlier`` never held (images, code, charts and
  modules by identity anywhere in ``earlier``; a configuration value within its slot, and only when ``earlier``
  ever had that file: a file only one stage has is ``only_in``'s business). The hotfix deployed straight to
  production, the service that reached production by a side channel. Severity high (medium for a
  configuration value). It resolves once ``later`` no longer runs it or ``earlier`` has held it (backported).
- **not_backported**: such an artifact *arrived* in ``later`` (first seen after ``later``'s first recorded
  scan: a change, not the state parity found on day one), more than ``backport_delay`` ago, and ``earlier``'s
  same slot has not changed since (it did not move on to something newer). Severity medium. It resolves when
  ``earlier`` gets the change or moves on.

Declared intended differences (``expected`` rules matching the slot's type, key and path for the two stages)
and ``promotion_rules.exclude`` globs are never judged. What the scan being run holds that cannot be read as
an artifact (``containers`` that is no list, an invalid image reference: :attr:`Ledger.notes`) is a note, not
a finding and never an error.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import itertools
from collections.abc import Sequence

from parity.config import ParityConfig
from parity.model import Change, Finding, Severity
from parity.promotion.artifacts import Artifact
from parity.promotion.ledger import Ledger, Sighting
from parity.report.values import age

_LABEL = {
    "image": "image",
    "lambda_code": "Lambda code",
    "helm_chart": "Helm chart",
    "module": "module",
    "config_value": "setting",
}


def describe(a: Artifact) -> str:
    if a.kind == "config_value":
        return f"setting {a.path} = {a.shown}"
    return f"{_LABEL[a.kind]} {a.shown}"


def _excluded(a: Artifact, config: ParityConfig) -> bool:
    return any(
        fnmatch.fnmatchcase(a.shown, g) or fnmatch.fnmatchcase(a.slot, g) for g in config.promotion_rules.exclude
    )


def _expected(s: Sighting, envs: tuple[str, str], config: ParityConfig) -> bool:
    return any(e.matches(s.type, s.key, s.artifact.path, envs) for e in config.expected)


def _where(s: Sighting) -> str:
    return f"{s.type} {s.id}"


def _earlier_value(ledger: Ledger, env: str, s: Sighting) -> str | None:
    now = ledger.in_slot(env, s.artifact.slot)
    return now[0].artifact.shown if now else None


def _finding(
    kind: str, s: Sighting, earlier: str, later: str, severity: Severity, message: str, left: str | None
) -> Finding:
    return Finding(
        kind=kind,  # type: ignore[arg-type]
        severity=severity,
        type=s.type,
        key=s.key,
        environments=(earlier, later),
        resources={later: s.id},
        message=message,
        changes=(Change(s.artifact.path, left, s.artifact.shown),),
        location=s.location,
        detail=f"{s.artifact.slot}={s.artifact.identity}",
    )


def _pair(ledger: Ledger, earlier: str, later: str, config: ParityConfig, now: dt.datetime) -> list[Finding]:
    out: list[Finding] = []
    delay = config.promotion_rules.delay
    later_start = ledger.first_observed[later]
    for s in ledger.present(later):
        a = s.artifact
        if _excluded(a, config) or _expected(s, (earlier, later), config):
            continue
        if ledger.observed(earlier, a) is not None:
            continue
        if a.kind == "config_value" and not ledger.resource_seen(earlier, a.slot.split("#", 1)[0]):
            continue
        left = _earlier_value(ledger, earlier, s)
        severity: Severity = "medium" if a.kind == "config_value" else "high"
        msg = f"{later} runs {describe(a)} ({_where(s)}) that was never observed in {earlier}"
        if left is not None:
            msg += f" ({earlier} has {left})"
        out.append(_finding("promotion_bypass", s, earlier, later, severity, msg, left))
        if s.first <= later_start or now - s.first < delay:
            continue  # the state found on the first scan, or still within the allowed delay
        if any(e.first > s.first for e in ledger.in_slot(earlier, a.slot)):
            continue  # the earlier stage changed that slot since: it moved on
        since = age((now - s.first).total_seconds())
        msg = (
            f"{later} changed {describe(a)} ({_where(s)}) on {s.first:%Y-%m-%d %H:%M} UTC; {earlier} still "
            + (f"has {left}" if left is not None else "lacks it")
            + f" {since} later (backport_delay {config.promotion_rules.backport_delay})"
        )
        out.append(_finding("not_backported", s, earlier, later, "medium", msg, left))
    return out


def analyse_promotion(ledger: Ledger, config: ParityConfig, now: dt.datetime) -> tuple[list[Finding], list[str]]:
    """Findings for every consecutive pair of ``promotion`` stages the ledger knows, and notes on pairs skipped."""
    findings: list[Finding] = []
    notes: list[str] = []
    stages: Sequence[str] = config.promotion
    for env in stages:
        notes += [f"{env}: {n}; not followed along the promotion path" for n in ledger.notes.get(env, ())]
    for earlier, later in itertools.pairwise(stages):
        if later not in ledger.first_observed:
            continue
        if earlier not in ledger.first_observed:
            notes.append(f"promotion {earlier} -> {later}: {earlier} was never scanned; the path is not judged")
            continue
        findings += _pair(ledger, earlier, later, config, now)
    findings.sort(key=lambda f: (f.kind, f.type, f.key, f.detail))
    return findings, notes
