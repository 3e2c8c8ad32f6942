"""The pipeline: collect each environment's sources, canonicalise, compare, and build a report.

Commands compose these steps; nothing here prints. ``progress`` callbacks receive one short line per
step so the CLI can show a live status on a terminal.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from parity.compare import (
    ComparisonMemo,
    ExpectedDifference,
    Inventory,
    Rules,
    apply_ignores,
    compare_code_live,
    find_cross_env_references,
    mirror_report,
)
from parity.config import LoadedConfig
from parity.model import Finding, Snapshot
from parity.normalize import CanonicalMemo, canonical_attributes, canonicalize, default_kb
from parity.normalize.native import compiled
from parity.permissions import analyse_permissions
from parity.pipelines import analyse_pipelines, locate_steps
from parity.promotion import analyse_promotion, ledger_for
from parity.redact import Redactor
from parity.registry import CollectContext, source_kinds
from parity.report import CoverageSummary, SourceSummary
from parity.store import Store

Progress = Callable[[str], None]


def ignored_types(loaded: LoadedConfig, env: str, today: dt.date | None = None) -> frozenset[str]:
    """Types an unexpired ignore rule suppresses whole in ``env``: live sources do not list them (API cost)."""
    day = today or dt.date.today()
    return frozenset(
        r.type
        for r in loaded.config.ignore
        if r.kind == "*" and r.key == "*" and r.path is None and not r.expired(day)
        and not any(ch in r.type for ch in "*?[")
        and (r.environments is None or env in r.environments)
    )  # fmt: skip


def _memos_pay() -> bool:
    # With the compiled walks, finding what a scan already saw costs what redoing it costs: hashing each raw
    # resource costs about what the canonical walk does (and sources that canonicalise as they read, Terraform
    # states, read faster without a memo), and new resource objects are found in the comparison memo only by
    # serialising their values, which costs more than the paired walk: a rescan is faster without memos
    # (docs/benchmarks.md, run L), and nothing is held between scans. With the Python walks they halve it.
    return compiled() is None


@dataclass
class ScanMemo:
    """What a long-running caller (``parity watch``, one per job) keeps from one scan for the next, where it
    pays (the Python walks, see _memos_pay): canonical forms and comparison digests by content, so unchanged
    resources are neither walked nor substituted again. None where it does not."""

    canonical: CanonicalMemo | None = field(default_factory=lambda: CanonicalMemo() if _memos_pay() else None)
    comparison: ComparisonMemo | None = field(default_factory=lambda: ComparisonMemo() if _memos_pay() else None)

    def rotate(self) -> None:
        """Called before each scan: what the previous scan used is kept one more scan, the rest is dropped."""
        if self.canonical is not None:
            self.canonical.rotate()


def collect_environment(
    loaded: LoadedConfig,
    env: str,
    redactor: Redactor,
    progress: Progress | None = None,
    memo: CanonicalMemo | None = None,
    only_kinds: frozenset[str] | None = None,
) -> Inventory:
    """Every source of ``env`` (of ``only_kinds``, when given), read and canonicalised (through ``memo``
    when given). Bad declared input raises InputError."""
    kinds = source_kinds()
    snaps: list[Snapshot] = []
    cfg = loaded.config
    # Without a memo, a source registered canonical_on_read canonicalises each resource as it reads it
    # (CollectContext); a memo looks raw content up, so through it the snapshot is canonicalised afterwards.
    on_read = None if memo is not None else functools.partial(canonical_attributes, kb=default_kb())
    for i, src in enumerate(cfg.environments[env].sources):
        if only_kinds is not None and src.kind not in only_kinds:
            continue
        name = loaded.source_name(env, i)
        if progress:
            progress(f"{env}: reading {name}")
        ctx = CollectContext(
            environment=env,
            source_name=name,
            base_dir=loaded.base_dir,
            redactor=redactor,
            role=loaded.source_role(src),
            tokens=cfg.all_tokens(),
            progress=progress,
            skip_types=ignored_types(loaded, env),
            canonical_attributes=on_read,
        )
        done = on_read is not None and kinds[src.kind].canonical_on_read
        for snap in kinds[src.kind].collect(src, ctx):
            snaps.append(snap if done else canonicalize(snap, memo=memo))
    return Inventory(environment=env, snapshots=tuple(snaps))


def collect(
    loaded: LoadedConfig,
    envs: Sequence[str],
    redactor: Redactor,
    progress: Progress | None = None,
    memo: CanonicalMemo | None = None,
    only_kinds: frozenset[str] | None = None,
    *,
    processes: bool = True,
) -> dict[str, Inventory]:
    """Every environment of ``envs`` collected (see :func:`collect_environment`); big ones in child processes
    when the machine has the cores, no ``memo`` is kept and ``processes`` allows it (:mod:`parity.parallel`;
    a long-running caller with threads of its own, ``parity watch``, collects in its own process)."""
    if memo is None and processes:
        from parity import parallel

        away = parallel.plan(loaded, envs, only_kinds)
        if away:

            def one(env: str) -> Inventory:  # a child reports no progress: the display belongs to this process
                shown = None if env in away else progress
                return collect_environment(loaded, env, redactor, shown, None, only_kinds)

            return parallel.collect_in_processes(envs, away, one, progress)
    return {env: collect_environment(loaded, env, redactor, progress, memo, only_kinds) for env in envs}


@dataclass
class Analysis:
    """Findings (after ignores) and what the report lists beside them."""

    findings: list[Finding] = field(default_factory=list)
    ignored: list[Finding] = field(default_factory=list)
    expected: list[ExpectedDifference] = field(default_factory=list)
    coverage: list[CoverageSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyse(
    loaded: LoadedConfig,
    inventories: dict[str, Inventory],
    *,
    mirrors: Sequence[tuple[str, str]] = (),
    code_live: Sequence[str] = (),
    references: bool = True,
    pipelines: bool = False,
    permissions: bool = False,
    promotion: bool = False,
    store: Store | None = None,
    now: dt.datetime | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    memo: ComparisonMemo | None = None,
) -> Analysis:
    """Compare the given mirror pairs, code vs live in the given environments, and cross-env references;
    with ``pipelines``, also the pipeline checks (promotion_bypass, pipeline policy rules: a full scan);
    with ``promotion``, the artifact ledger along the promotion order (promotion_bypass, not_backported) from
    ``store``'s history and these inventories, judged as of ``now``. A ``memo`` kept by the caller between
    calls (``parity watch``) makes comparing content that an earlier call saw cheap."""
    rules = Rules.from_config(loaded, today)
    raw: list[Finding] = []
    out = Analysis()
    expected_used: set[int] = set()
    # A pair given twice (also reversed: `mirrors: [[a, b], [b, a]]`) is compared once: its findings have the
    # same ids either way, and would be reported twice.
    first: dict[frozenset[str], tuple[str, str]] = {}
    for pair in mirrors:
        first.setdefault(frozenset(pair), pair)
    mirrors = list(first.values())
    for left, right in mirrors:
        if progress:
            progress(f"comparing {left} with {right}")
        mr = mirror_report(inventories[left], inventories[right], rules, memo=memo)
        raw += mr.findings
        out.expected += mr.expected
        expected_used |= mr.expected_used
        if mr.uncovered_types:
            out.notes.append(
                f"{left} vs {right}: not checked for resources in one only (coverage gap): "
                + ", ".join(mr.uncovered_types)
            )
    out.notes += unused_expected_notes(rules, mirrors, expected_used)
    live_figures: dict[str, tuple[int, int]] = {}
    for env in code_live:
        if progress:
            progress(f"{env}: comparing code with live")
        res = compare_code_live(inventories[env], rules)
        raw += res.findings
        if res.live:
            live_figures[env] = (res.managed, res.live)
    if references and len(inventories) > 1:
        raw += find_cross_env_references(list(inventories.values()), rules)
    raw = locate_steps(raw, inventories)
    if pipelines:
        raw += analyse_pipelines(inventories, loaded.config)
    unread: list[str] = []
    if permissions:  # permission_gap, elevated_grant, permission policy rules (docs/permissions.md)
        raw += analyse_permissions(inventories, loaded.config, rules, mirrors, today, notes=unread)
    promotion_notes: list[str] = []
    if promotion and len(loaded.config.promotion) > 1:
        if progress:
            progress("following artifacts along the promotion path")
        at = now or dt.datetime.now(dt.UTC)
        ledger = ledger_for(loaded.config, store, current=inventories, now=at)
        found, promotion_notes = analyse_promotion(ledger, loaded.config, at)
        raw += found
    kept = apply_ignores(raw, rules)
    out.findings = list(kept.kept)
    out.ignored = list(kept.ignored)
    out.notes = out.notes + list(kept.notes) + promotion_notes + unread
    for env, inv in inventories.items():
        managed, live = live_figures.get(env, (None, None))
        out.coverage.append(
            CoverageSummary(
                environment=env,
                sources=tuple(
                    SourceSummary(s.source, s.kind, s.role, len(s.resources), len(s.coverage.listed))
                    for s in inv.snapshots
                ),
                managed=managed,
                live=live,
                gaps=tuple(g for s in inv.snapshots for g in s.coverage.gaps),
            )
        )
    return out


def unused_expected_notes(rules: Rules, mirrors: Sequence[tuple[str, str]], used: set[int]) -> list[str]:
    """One note per ``expected`` rule that applies to a compared pair and matched no difference in any: a
    misspelt type, key or path, or an intended difference that is gone (the rule can be removed)."""
    notes: list[str] = []
    if not mirrors:
        return notes
    for n, e in enumerate(rules.expected):
        if n in used:
            continue
        sel = ", ".join(f"{k}: {v}" for k, v in (("type", e.type), ("key", e.key), ("path", e.path)) if v != "*")
        if e.environments is not None and len(set(e.environments)) < 2:
            notes.append(
                f"expected[{n}] ({sel or 'everything'}; {e.reason}) names one environment "
                f"({', '.join(e.environments) or 'none'}): it applies between two environments, so it never applies"
            )
            continue
        applies = [p for p in mirrors if e.environments is None or set(p) <= set(e.environments)]
        if not applies:
            continue
        notes.append(
            f"expected[{n}] ({sel or 'everything'}; {e.reason}) matched no difference between "
            + "; ".join(f"{a} and {b}" for a, b in applies)
            + ": check its type, key and path, or remove it if the difference is gone"
        )
    return notes


def attribute_findings(
    loaded: LoadedConfig,
    analysis: Analysis,
    inventories: dict[str, Inventory],
    store: Store | None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> None:
    """Add CloudTrail attribution to the analysis' AWS drift findings (in place; see :mod:`parity.attribution`).

    Only when some finding can be attributed: a changed/unmanaged/elevated_grant finding in an environment
    with an ``aws`` source, and ``attribution.enabled``.
    """
    from parity.attribution import KINDS, attribute

    cfg = loaded.config
    aws_envs = {e for e, spec in cfg.environments.items() if any(s.kind == "aws" for s in spec.sources)}
    if not cfg.attribution.enabled or not any(
        f.kind in KINDS and len(f.environments) == 1 and f.environments[0] in aws_envs for f in analysis.findings
    ):
        return
    if progress:
        progress("asking CloudTrail who changed what")
    stored = {f.id: f for f in store.findings()} if store is not None else {}
    analysis.findings, notes = attribute(loaded, analysis.findings, inventories, stored=stored, now=now)
    analysis.notes += notes
