"""The promotion graph ``parity pipeline`` prints: per repository, which job deploys where and through what.

Nodes are deploy jobs; an edge ``A -> B`` means B waits for A to succeed (``needs``/stage order, possibly
through build or test jobs in between: ``via``), or B's workflow runs after A's (``workflow_run``). A
deploy job no other deploy job leads to is entered from its workflow's triggers. A bypass
(:mod:`.bypass`) marks its job and is drawn as a red dotted entry from the way in that skips the stage.

Coverage gaps of the pipeline sources (a GitLab include that cannot be read from a folder) are listed by
every rendering: the graph may then be missing jobs, and ``parity pipeline --strict`` exits 3 on them.

Renderings: :func:`render_text`, :func:`render_mermaid` (``flowchart LR``) and :func:`to_json`
(``parity/pipeline-graph@1``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from parity.model import CoverageGap, Json
from parity.pipelines.bypass import Bypass, find_bypasses, reach
from parity.pipelines.graph import GITHUB, GraphJob, Workflow
from parity.report.values import visible

SCHEMA = "parity/pipeline-graph@1"


@dataclass(frozen=True)
class Node:
    id: str  # "{workflow rel}#{job id}"
    job: str
    environment: str
    workflow: str
    file: str
    line: int
    manual: bool
    entries: tuple[str, ...]  # the triggers that start it directly (empty: reached through other deploys)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    via: str  # "needs", "needs via build, test", "stage order", "workflow_run"


@dataclass
class RepoGraph:
    repo: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    bypasses: list[Bypass] = field(default_factory=list)


@dataclass
class PromotionGraph:
    promotion: tuple[str, ...]
    repos: list[RepoGraph] = field(default_factory=list)
    gaps: list[CoverageGap] = field(default_factory=list)  # what the pipeline sources could not read

    @property
    def has_bypass(self) -> bool:
        return any(r.bypasses for r in self.repos)

    @property
    def complete(self) -> bool:
        return not self.gaps


def _triggers(wf: Workflow) -> tuple[str, ...]:
    if wf.provider != GITHUB:
        return ("pipeline",)
    out = []
    for event, spec in wf.triggers.items():
        if isinstance(spec, dict) and spec.get("branches"):
            out.append(f"{event} ({', '.join(_items(spec['branches']))})")
        elif isinstance(spec, dict) and spec.get("tags"):
            out.append(f"{event} (tags)")
        else:
            out.append(event)
    return tuple(out)


def _items(value: Json) -> list[str]:
    """A filter list as written: ``branches: main`` is one branch, not four letters."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _nearest(wf: Workflow, job: GraphJob) -> list[tuple[GraphJob, list[str]]]:
    """The deploy jobs ``job`` waits for that no other such job waits for, with the jobs in between.

    Those are the deploy jobs reached through non-deploy jobs only (the frontier) that no frontier job
    waits for: every deploy job ``job`` waits for is on the frontier or behind one. Linear per job."""
    r = reach(wf)
    before = r.closure(job)
    frontier = {d.id for d in r.walk([job], exclude=job.id, through=False) if d.deploys is not None}
    covered = {x.id for x in r.walk(d for d in before if d.id in frontier)}
    out = []
    for d in before:
        if d.id not in frontier or d.id in covered:
            continue
        after = r.waiters(d)
        out.append((d, [x.id for x in before if x.deploys is None and x.id in after]))
    return out


def promotion_graph(
    workflows: Sequence[Workflow], promotion: Sequence[str], gaps: Iterable[CoverageGap] = ()
) -> PromotionGraph:
    graph = PromotionGraph(tuple(promotion), gaps=list(dict.fromkeys(gaps)))
    bypasses = find_bypasses(workflows, promotion)
    repos: dict[str, RepoGraph] = {}
    for wf in workflows:
        rg = repos.setdefault(wf.repo, RepoGraph(wf.repo))
        for job in wf.jobs:
            if job.deploys is None:
                continue
            ups = _nearest(wf, job)
            for d, between in ups:
                via = "needs" if wf.provider == GITHUB or job.has_needs else "stage order"
                rg.edges.append(Edge(wf.resource_id(d), wf.resource_id(job), via + _via(between)))
            runs_after = [] if ups else _after_workflows(wf, workflows)
            for other in runs_after:
                for d in other.jobs:
                    if d.deploys is not None and _last_deploy(other, d):
                        rg.edges.append(Edge(other.resource_id(d), wf.resource_id(job), "workflow_run"))
            entries = () if ups else tuple(t for t in _triggers(wf) if not (runs_after and t == "workflow_run"))
            rg.nodes.append(
                Node(wf.resource_id(job), job.id, job.deploys, wf.name, job.file, job.line, job.manual, entries)
            )
    for b in bypasses:
        repos[b.workflow.repo].bypasses.append(b)
    graph.repos = [repos[k] for k in sorted(repos)]
    return graph


def _via(between: list[str]) -> str:
    return f" via {', '.join(between)}" if between else ""


def _after_workflows(wf: Workflow, workflows: Sequence[Workflow]) -> list[Workflow]:
    spec = wf.triggers.get("workflow_run")
    names = spec.get("workflows") if isinstance(spec, dict) else None
    wanted = {names} if isinstance(names, str) else set(names) if isinstance(names, list) else set()
    return [w for w in workflows if w.repo == wf.repo and w.name in wanted and w is not wf]


def _last_deploy(wf: Workflow, job: GraphJob) -> bool:
    """True when ``job`` is the last deploy job of its workflow (what a workflow_run waits for)."""
    after = reach(wf).waiters(job)
    return not any(j.deploys is not None and j.id != job.id and j.id in after for j in wf.jobs)


# Rendering ---------------------------------------------------------------------------------------


def render_text(graph: PromotionGraph) -> str:
    lines: list[str] = []
    if not graph.repos and not graph.gaps:
        return "no pipeline source configured (add {kind: pipeline, path: <repository>} to an environment)\n"
    order = {e: i for i, e in enumerate(graph.promotion)}
    for rg in graph.repos:
        lines.append(f"repository {rg.repo}")
        nodes = sorted(rg.nodes, key=lambda n: (order.get(n.environment, len(order)), n.id))
        into: dict[str, list[Edge]] = {}
        for e in rg.edges:
            into.setdefault(e.target, []).append(e)
        for n in nodes:
            lines.append(f"  {n.environment:<12} {n.job}  ({n.file}:{n.line}){'  [manual]' if n.manual else ''}")
            for e in into.get(n.id, ()):
                lines.append(f"      after {e.source} ({e.via})")
            for t in n.entries:
                lines.append(f"      on {t}")
        for b in rg.bypasses:
            lines.append(f"  BYPASS [{b.severity}] {b.reason}: {b.message}")
        if not rg.bypasses:
            lines.append("  no path skips a stage")
        lines.append("")
    if graph.gaps:
        lines.append(f"coverage incomplete: {len(graph.gaps)} gap(s), the graph may lack jobs (--strict exits 3)")
        lines += [f"  {g.scope}: {g.reason} ({g.kind})" for g in graph.gaps]
        lines.append("")
    return "\n".join(_plain(ln) for ln in lines)


def _plain(line: str) -> str:
    """A line of text output with control characters from the files made visible (no terminal escapes)."""
    return visible(line.replace("\n", "⏎"))


def _mid(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def mermaid_ids(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """A Mermaid node id for each (repository, job resource id): the id with every character Mermaid
    does not take as ``_``, so ``deploy-production`` and ``deploy_production`` (or one workflow path in
    two repositories) would meet; those that meet each get ``_`` and a hash of what they stand for. An id
    depends only on its job and on whether another one meets it, not on the order of jobs."""
    keys = sorted(set(keys))
    base = {k: _mid(k[1]) for k in keys}
    shared = Counter(base.values())
    out: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for k in keys:
        mid, size = base[k], 8
        digest = hashlib.sha256(f"{k[0]}\x00{k[1]}".encode()).hexdigest()
        while shared[mid] > 1 or mid in taken:
            mid = f"{base[k]}_{digest[:size]}"
            size *= 2
        out[k] = mid
        taken.add(mid)
    return out


def _label(text: str) -> str:
    """Text inside a Mermaid label: quotes and ``|`` (which ends an edge label) as entity codes, control
    characters made visible, so a job name cannot break out of its label."""
    return _plain(text).replace('"', "#quot;").replace("|", "#124;")


def render_mermaid(graph: PromotionGraph) -> str:
    """A ``flowchart LR``: one node per deploy job, trigger nodes, edges for needs and workflow_run;
    every way into a job that skips a stage is a red dotted edge labelled ``skips <stage>``, and the
    job has the ``bypass`` class."""
    out = ["flowchart LR"]
    links: list[str] = []
    red: list[int] = []

    def link(source: str, target: str, label: str, skips: str | None) -> None:
        if skips is not None:
            red.append(len(links))
            links.append(f"  {source} -.->|{_label(label + ' · skips ' + skips)}| {target}")
        else:
            links.append(f"  {source} -->|{_label(label)}| {target}")

    ids = mermaid_ids(
        (rg.repo, x)
        for rg in graph.repos
        for x in chain((n.id for n in rg.nodes), (e.source for e in rg.edges), (e.target for e in rg.edges))
    )
    for ri, rg in enumerate(graph.repos):

        def mid(rid: str, repo: str = rg.repo) -> str:
            return ids[(repo, rid)]

        out.append(f'  subgraph repo{ri}["{_label(rg.repo)}"]')
        skipped = {b.workflow.resource_id(b.job): b.earlier for b in rg.bypasses if b.earlier is not None}
        flagged = {b.workflow.resource_id(b.job) for b in rg.bypasses}
        for n in rg.nodes:
            cls = ":::bypass" if n.id in flagged else ""
            manual = "<br/>manual" if n.manual else ""
            out.append(f'    {mid(n.id)}["{_label(n.job)}<br/>{_label(n.environment)}{manual}"]{cls}')
        triggers: dict[str, str] = {}
        for n in rg.nodes:
            for t in n.entries:
                name = f"{n.workflow}: {t}"
                if name not in triggers:
                    triggers[name] = f"t{ri}_{len(triggers)}"
                    out.append(f'    {triggers[name]}(["{_label(name)}"])')
                link(triggers[name], mid(n.id), "starts", skipped.get(n.id))
        for e in rg.edges:
            link(mid(e.source), mid(e.target), e.via, skipped.get(e.target))
        out.append("  end")
    out += links
    out.append("  classDef bypass stroke:#d00,stroke-width:3px,color:#d00")
    out += [f"  %% coverage gap: {_plain(g.scope)}: {_plain(g.reason)} ({g.kind})" for g in graph.gaps]
    out += [f"  linkStyle {i} stroke:#d00,stroke-width:2px,stroke-dasharray:4" for i in red]
    return "\n".join(out) + "\n"


def to_json(graph: PromotionGraph) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "promotion": list(graph.promotion),
        "repositories": [
            {
                "repo": rg.repo,
                "jobs": [
                    {
                        "id": n.id,
                        "job": n.job,
                        "environment": n.environment,
                        "workflow": n.workflow,
                        "file": n.file,
                        "line": n.line,
                        "manual": n.manual,
                        "triggers": list(n.entries),
                    }
                    for n in rg.nodes
                ],
                "edges": [{"from": e.source, "to": e.target, "via": e.via} for e in rg.edges],
                "bypasses": [
                    {
                        "job": b.workflow.resource_id(b.job),
                        "environment": b.environment,
                        "skips": b.earlier,
                        "reason": b.reason,
                        "severity": b.severity,
                        "message": b.message,
                        "file": b.job.file,
                        "line": b.job.line,
                    }
                    for b in rg.bypasses
                ],
            }
            for rg in graph.repos
        ],
        "bypass": graph.has_bypass,
        "coverage": {
            "complete": graph.complete,
            "gaps": [{"scope": g.scope, "type": g.type, "kind": g.kind, "reason": g.reason} for g in graph.gaps],
        },
    }
