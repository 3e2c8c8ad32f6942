"""The ``pipeline`` source: CI/CD definitions of a repository folder, one Resource per deploy job of
the source's environment, plus the whole deploy graph as snapshot facts (:mod:`parity.pipelines.graph`).

Identity rules (relied on by pairing across environments):

- ``type`` = ``pipeline/github-actions/job`` or ``pipeline/gitlab-ci/job``;
- ``id`` = ``{workflow file relative to the repository}#{job id}``;
- ``key`` = the same with this environment's tokens replaced by ``{env}`` in both parts,
  so ``deploy.yml#deploy-staging`` and ``deploy.yml#deploy-production`` (or ``deploy-staging.yml#deploy``
  and ``deploy-production.yml#deploy``) pair; when two jobs of one environment would share a key, both
  keep their raw id as key;
- ``name`` = the job name; ``location`` = the job's file and line.

Attributes (compared between mirrors; see :mod:`.normalise` for the normal form): ``workflow``,
``name``, ``environment``, ``triggers`` (GitHub ``on:``) or ``workflow_rules`` (GitLab), ``waits_for``
(every job it runs after, transitively through ``needs:`` or GitLab stage order, except other
environments' deploy jobs: production waiting for the staging deploy is the promotion link, which the
analysis reads from the graph, and it differs between stages by construction), the job's settings
(``runs_on``, ``permissions``, ``if``, ``uses``, ``with``, ``env``, ...; GitLab ``when``,
``rules``, ``only``, ``except``,
``variables``, ...) and ``steps`` (ordered, each with a unique stable ``name``; no file lines).

One malformed file fails the whole source with an InputError naming it (exit 1), like every declared
source: a pipeline read in part would make missing deploy jobs read as ``only_in``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

from parity.config import PipelineSource
from parity.errors import InputError
from parity.model import Coverage, CoverageGap, Json, Location, Resource, Snapshot
from parity.pipelines.graph import FACT, GraphJob, StepRef, Workflow
from parity.registry import CollectContext, register_source
from parity.sources.pipeline import github, gitlab
from parity.sources.pipeline.normalise import VARIABLE_KEYS, Classifier, Normaliser, env_sub
from parity.sources.pipeline.raw import RawJob, RawWorkflow

KIND = "pipeline"


def _tokens(ctx: CollectContext, env: str | None) -> tuple[str, ...]:
    if env is None:
        return ()
    return (env, *ctx.tokens.get(env, ()))


def _graph(wf: RawWorkflow, spec: PipelineSource, deploys: dict[str, str | None], keys: dict[str, str]) -> Workflow:
    jobs = []
    for j in wf.jobs:
        s = j.settings
        cond = s.get("if")
        called = s.get("called_if")
        if called is not None:
            cond = f"({cond}) && ({called})" if cond is not None else called
        jobs.append(
            GraphJob(
                id=j.id,
                name=j.name,
                file=j.file,
                line=j.line,
                deploys=deploys[j.id],
                environment=j.environment,
                needs=tuple(j.needs),
                has_needs=j.has_needs,
                condition=str(cond) if cond is not None else None,
                stage=str(s["stage"]) if "stage" in s else None,
                when=str(s["when"]) if isinstance(s.get("when"), str) else None,
                manual=j.manual,
                allow_failure=j.allow_failure,
                rules=s.get("rules"),
                only=s.get("only"),
                except_=s.get("except"),
                key=keys.get(j.id, ""),
                steps=(),
            )
        )
    return Workflow(
        provider=wf.provider,
        repo=spec.path,
        file=wf.file,
        rel=wf.rel,
        name=wf.name,
        triggers=wf.triggers,
        workflow_rules=wf.workflow_rules,
        stages=tuple(wf.stages),
        jobs=tuple(jobs),
        default_branches=(spec.default_branch,) if spec.default_branch else ("main", "master"),
    )


class Waits:
    """What each job of ``wf`` runs after, transitively (``needs:``; GitLab stage order where none given),
    indexed once per workflow: each walk adds a stage's jobs once, not once per job waiting for them."""

    def __init__(self, wf: RawWorkflow) -> None:
        self.by_id = {j.id: j for j in wf.jobs}
        order = {s: i for i, s in enumerate(wf.stages)}
        self.stage = {j.id: order.get(str(j.settings.get("stage", "test")), 0) for j in wf.jobs}
        self.staged = wf.jobs if wf.stages else []
        self.prefix = {j.id: self.stage[j.id] for j in wf.jobs if wf.stages and not j.has_needs}

    def __call__(self, job: RawJob) -> set[str]:
        seen: set[str] = set()
        done = 0  # the jobs of the stages before this one are all seen
        todo = [job]
        while todo:
            j = todo.pop()
            found = [self.by_id[n] for n in j.needs if n in self.by_id] if j.id not in self.prefix else []
            p = self.prefix.get(j.id, 0)
            if p > done:
                found += [d for d in self.staged if done <= self.stage[d.id] < p]
                done = p
            for d in found:
                if d.id not in seen and d.id != job.id:
                    seen.add(d.id)
                    todo.append(d)
        return seen


def waits_for(wf: RawWorkflow, job: RawJob) -> set[str]:
    """Every job ``job`` runs after, transitively (``needs:``; GitLab stage order where none given)."""
    return Waits(wf)(job)


def _resource(
    wf: RawWorkflow, job: RawJob, key: str, norm: Normaliser, foreign: set[str], waits: Waits | None = None
) -> Resource:
    steps, _names = norm.steps(job.steps)
    attrs: dict[str, Json] = {
        "workflow": norm.text(wf.name),
        "name": norm.text(job.name),
        "environment": norm.text(job.environment) if job.environment else None,
        "waits_for": sorted(norm.text(n) for n in (waits or Waits(wf))(job) if n not in foreign),
    }
    if wf.triggers:
        attrs["triggers"] = norm.value(wf.triggers)
    if wf.workflow_rules is not None:
        attrs["workflow_rules"] = norm.value(wf.workflow_rules)
    for k, v in job.settings.items():
        if k in ("called_if", "stage"):
            continue  # stage: its order is in waits_for; the word "stage" is also a staging token
        if k == "dependencies" and isinstance(v, list):
            v = [d for d in v if d not in foreign]
        attrs[k] = norm.value(v, k, k in VARIABLE_KEYS)
    if job.manual:
        attrs["manual"] = True
    attrs["steps"] = steps
    return Resource(
        type=f"pipeline/{wf.provider}/job",
        id=f"{wf.rel}#{job.id}",
        key=key,
        attributes=attrs,
        origin=f"{KIND}:{wf.file}",
        owner="none",
        name=job.name,
        location=Location(job.file, job.line),
    )


def read_workflows(spec: PipelineSource, ctx: CollectContext) -> tuple[list[RawWorkflow], list[CoverageGap]]:
    repo = ctx.resolve(spec.path)
    if not repo.is_dir():
        raise InputError(spec.path, "no such folder (a pipeline source's path is a repository folder)")
    workflows: list[RawWorkflow] = []
    gaps: list[CoverageGap] = []
    found = False
    if spec.provider in ("auto", "github"):
        found = found or bool(github.workflow_files(repo))
        workflows += github.read(repo, ctx.base_dir)
    if spec.provider in ("auto", "gitlab"):
        wf, gaps = gitlab.read(repo, ctx.base_dir)
        if wf is not None:
            found = True
            workflows.append(wf)
    if not found:
        want = {"auto": ".github/workflows/*.yml or .gitlab-ci.yml", "github": ".github/workflows/*.yml"}
        raise InputError(spec.path, f"holds no CI definitions ({want.get(spec.provider, '.gitlab-ci.yml')})")
    return workflows, gaps


@register_source(KIND, "CI/CD pipeline definitions (GitHub Actions, GitLab CI): one resource per deploy job.")
def collect(spec: PipelineSource, ctx: CollectContext) -> Sequence[Snapshot]:
    workflows, gaps = read_workflows(spec, ctx)
    env = ctx.environment
    classifier = Classifier({e: _tokens(ctx, e) for e in ctx.tokens} | {env: _tokens(ctx, env)})
    resources: list[Resource] = []
    graphs: list[str] = []
    for wf in workflows:
        deploys = {j.id: classifier.deploy_environment(j) for j in wf.jobs}
        keys = {
            j.id: f"{env_sub(wf.rel, _tokens(ctx, d))}#{env_sub(j.id, _tokens(ctx, d))}"
            for j in wf.jobs
            if (d := deploys[j.id]) is not None
        }
        mine = [j for j in wf.jobs if deploys[j.id] == env]
        clashes = {k for k in (keys[j.id] for j in mine) if sum(keys[m.id] == k for m in mine) > 1}
        for j in mine:
            if keys[j.id] in clashes:
                keys[j.id] = f"{wf.rel}#{j.id}"
        foreign = {j.id for j in wf.jobs if deploys[j.id] not in (None, env)}
        norm = Normaliser(_tokens(ctx, env), ctx.redactor, {f: "{upstream}" for f in foreign})
        waits = Waits(wf)
        for j in mine:
            resources.append(_resource(wf, j, keys[j.id], norm, foreign, waits))
        graph = _graph(wf, spec, deploys, keys)
        graphs.append(_with_steps(graph, wf, ctx).to_json())
        ctx.report(f"read {wf.file}")
    return [
        Snapshot(
            environment=env,
            source=ctx.source_name,
            kind=KIND,
            role=ctx.role,
            collected_at=datetime.now(UTC),
            resources=tuple(resources),
            coverage=Coverage(listed=tuple(wf.file for wf in workflows), gaps=tuple(gaps)),
            facts={FACT: tuple(graphs)},
        )
    ]


def _with_steps(graph: Workflow, wf: RawWorkflow, ctx: CollectContext) -> Workflow:
    """The graph with each deploy job's step lines, named as in that job's ``steps`` attribute."""
    jobs = []
    for gj, raw in zip(graph.jobs, wf.jobs, strict=True):
        if gj.deploys is None:
            jobs.append(gj)
            continue
        norm = Normaliser(_tokens(ctx, gj.deploys), ctx.redactor)
        _steps, names = norm.steps(raw.steps)
        refs = tuple(StepRef(n, s.file, s.line) for n, s in zip(names, raw.steps, strict=True))
        jobs.append(dataclasses.replace(gj, steps=refs))
    return dataclasses.replace(graph, jobs=tuple(jobs))
