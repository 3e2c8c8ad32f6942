"""Pipeline analysis: judging what the ``pipeline`` source read (it only reads; this only judges).

Public API (called from :func:`parity.pipeline.analyse`):

- :func:`analyse_pipelines` -> ``list[Finding]``: ``promotion_bypass`` (:mod:`.bypass`) and the
  pipeline rules' ``policy_violation`` (:mod:`.policy`) over every environment's inventory;
- :func:`locate_steps`: ``differs`` findings on deploy jobs, pointed at the line of the step that
  differs and naming it (the mirror engine knows only the job);
- :func:`promotion_graph` -> :class:`PromotionGraph`: what ``parity pipeline`` prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from parity.compare.types import Inventory
from parity.config import ParityConfig
from parity.model import Finding, Location
from parity.pipelines import policy
from parity.pipelines.bypass import Bypass, find_bypasses
from parity.pipelines.graph import Workflow, workflows_of
from parity.pipelines.graphview import PromotionGraph, promotion_graph

__all__ = ["Bypass", "PromotionGraph", "Workflow", "analyse_pipelines", "locate_steps", "promotion_graph"]

JOB_TYPE_PREFIX = "pipeline/"


def _step_index(workflows: Sequence[Workflow]) -> dict[tuple[str, str], Location]:
    """(resource id, step name) -> where the step is written."""
    out: dict[tuple[str, str], Location] = {}
    for wf in workflows:
        for j in wf.jobs:
            for s in j.steps:
                out[(wf.resource_id(j), s.name)] = Location(s.file, s.line)
    return out


def bypass_finding(b: Bypass) -> Finding:
    rid = b.workflow.resource_id(b.job)
    envs = (b.earlier, b.environment) if b.earlier else (b.environment,)
    return Finding(
        kind="promotion_bypass",
        severity=b.severity,
        type=f"pipeline/{b.workflow.provider}/job",
        key=b.job.key or rid,
        environments=envs,
        resources={b.environment: rid},
        message=b.message,
        location=Location(b.job.file, b.job.line),
        detail=b.reason,
    )


def analyse_pipelines(inventories: Mapping[str, Inventory], config: ParityConfig) -> list[Finding]:
    """``promotion_bypass`` and pipeline ``policy_violation`` findings (see the package docstring)."""
    snaps = [s for inv in inventories.values() for s in inv.snapshots]
    workflows = workflows_of(snaps)
    if not workflows:
        return []
    findings = [bypass_finding(b) for b in find_bypasses(workflows, config.promotion) if b.environment in inventories]
    steps = _step_index(workflows)
    for rule in config.rules:
        for env in rule.environments:
            inv = inventories.get(env)
            if inv is None:
                continue
            jobs = [r for r in inv.resources() if r.type.startswith(JOB_TYPE_PREFIX)]
            for v in policy.check(rule, env, jobs):
                findings.append(
                    Finding(
                        kind="policy_violation",
                        severity=v.severity,
                        type=v.resource.type,
                        key=v.resource.key,
                        environments=(env,),
                        resources={env: v.resource.id},
                        message=v.message,
                        location=policy.location(v, steps),
                        detail=f"{v.rule}:{v.detail}",
                    )
                )
    findings.sort(key=lambda f: (f.kind, f.type, f.key, f.detail))
    return findings


def locate_steps(findings: Sequence[Finding], inventories: Mapping[str, Inventory]) -> list[Finding]:
    """``differs`` on deploy jobs pointed at the first differing step's line (ids unchanged)."""
    if not any(f.kind == "differs" and f.type.startswith(JOB_TYPE_PREFIX) for f in findings):
        return list(findings)
    steps = _step_index(workflows_of(s for inv in inventories.values() for s in inv.snapshots))
    names: dict[str, list[str]] = {}
    for rid, name in steps:
        names.setdefault(rid, []).append(name)
    out: list[Finding] = []
    for f in findings:
        if f.kind != "differs" or not f.type.startswith(JOB_TYPE_PREFIX) or len(f.environments) != 2:
            out.append(f)
            continue
        out.append(_located(f, steps, names))
    return out


def _located(f: Finding, steps: Mapping[tuple[str, str], Location], names: Mapping[str, list[str]]) -> Finding:
    left, right = f.environments
    for c in f.changes:
        if not c.path.startswith("steps["):
            continue
        env = right if c.left is None else left
        rid = f.resources.get(env, "")
        name = next(
            (n for n in sorted(names.get(rid, []), key=len, reverse=True) if c.path.startswith(f"steps[{n}]")), None
        )
        if name is None:
            continue
        loc = steps[(rid, name)]
        step = c.right if c.left is None else c.left
        text = ""
        if isinstance(step, dict) and (c.left is None or c.right is None):
            body = step.get("run") or step.get("uses")
            text = f": {' '.join(str(body).split())[:100]}" if body else ""
            where = f"step {name!r} only in {env}{text}"
        else:
            where = f"step {name!r} differs"
        return dataclasses.replace(f, location=loc, message=f"{f.message} ({where}; {loc.file}:{loc.line})")
    return f
