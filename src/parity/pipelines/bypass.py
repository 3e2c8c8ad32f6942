"""``promotion_bypass`` on the deploy path: a deploy job that can run without the earlier stage's deploy
having succeeded for the same commit, or a production deploy from a branch other than the default.

For every job deploying to a stage E with an earlier stage P (``promotion``) that some job of the same
repository deploys to:

- **same workflow / pipeline** as a P deploy job: the job must reach it through *success* edges.
  GitHub: ``needs:`` edges, except from a job whose ``if:`` runs it regardless of its needs' results
  (``always()``, ``failure()``, ``cancelled()``). GitLab: ``needs:`` when given, else every job of the
  earlier stages; an edge into a job that may fail without stopping the pipeline (``allow_failure``,
  the default for a job-level ``when: manual``) or out of a ``when: always`` job does not count.
  Otherwise: ``no_path`` (``manual_no_dependency`` for a GitLab manual job).
- **another workflow** (GitHub): each trigger of the job's workflow is a way in. ``workflow_run`` of a
  workflow that deploys to P, with the job (or a job it needs) checking
  ``github.event.workflow_run.conclusion == 'success'``, is the only one that passes through P;
  ``workflow_run`` without that check is ``runs_after_failure``; any other trigger
  (``workflow_dispatch``, ``push`` of tags or branches, ``schedule``, ``repository_dispatch``, ...)
  is ``separate_trigger``.

For every job deploying to the last stage (``branch``): GitHub triggers ``push`` to branches other than
the default (or to any branch, or tags), ``pull_request*``, or ``workflow_dispatch`` (any branch can be
picked), unless the job or a job it needs is guarded by ``if: github.ref == 'refs/heads/<default>'``
(or ``github.ref_name``); GitLab ``rules`` / ``only`` / ``workflow: rules`` that do not limit the job
to the default branch (``$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`` or the branch's name).

Severity: ``critical`` when the stage skipped into is the last (production), ``high`` otherwise;
``high`` for a branch bypass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parity.model import Json, Severity
from parity.pipelines.graph import GITHUB, GraphJob, Workflow

_IGNORES_FAILURE = re.compile(r"\b(always|failure|cancelled)\s*\(\s*\)")
_RUN_SUCCESS = re.compile(r"workflow_run\.conclusion\s*==\s*['\"]success['\"]")
_GH_REF = re.compile(r"github\.(ref|ref_name)\s*==\s*['\"](refs/heads/)?([^'\"]+)['\"]")
_GL_BRANCH = re.compile(
    r"\$(CI_COMMIT_BRANCH|CI_COMMIT_REF_NAME)\s*==\s*(\$CI_DEFAULT_BRANCH|['\"]?([\w./-]+)['\"]?)"
    r"|(\$CI_DEFAULT_BRANCH|['\"]([\w./-]+)['\"])\s*==\s*\$(CI_COMMIT_BRANCH|CI_COMMIT_REF_NAME)"
)
_BRANCH_TRIGGERS = ("push", "pull_request", "pull_request_target", "workflow_dispatch")


@dataclass(frozen=True)
class Bypass:
    workflow: Workflow
    job: GraphJob
    environment: str
    earlier: str | None  # the stage skipped (None for a branch bypass)
    reason: str  # no_path | manual_no_dependency | separate_trigger | runs_after_failure | branch
    message: str
    severity: Severity


def _weak_source(job: GraphJob) -> bool:
    """True when ``job`` runs whatever its dependencies' results (so an edge out of it proves nothing)."""
    if job.condition and _IGNORES_FAILURE.search(job.condition):
        return True
    return job.when == "always"


def dependencies(wf: Workflow, job: GraphJob) -> list[GraphJob]:
    """The jobs ``job`` waits for to *succeed* (see the module docstring)."""
    if _weak_source(job):
        return []
    if wf.provider == GITHUB or job.has_needs:
        found = [wf.job(n) for n in job.needs]
        deps = [d for d in found if d is not None]
    else:
        order = {s: i for i, s in enumerate(wf.stages)}
        mine = order.get(job.stage or "test", 0)
        deps = [d for d in wf.jobs if order.get(d.stage or "test", 0) < mine]
    if wf.provider != GITHUB:
        deps = [d for d in deps if not d.allow_failure]
    return deps


def closure(wf: Workflow, job: GraphJob) -> list[GraphJob]:
    """Every job ``job`` transitively waits for to succeed."""
    seen: dict[str, GraphJob] = {}
    todo = [job]
    while todo:
        for d in dependencies(wf, todo.pop()):
            if d.id not in seen and d.id != job.id:
                seen[d.id] = d
                todo.append(d)
    return list(seen.values())


def _severity(env: str, promotion: Sequence[str]) -> Severity:
    return "critical" if promotion and env == promotion[-1] else "high"


def _upstream_bypass(
    wf: Workflow, job: GraphJob, earlier: str, repo: Sequence[Workflow], sev: Severity
) -> Bypass | None:
    label = f"job {job.id!r} ({wf.file}) deploys to {job.deploys}"
    here = [j for j in wf.jobs if j.deploys == earlier]
    before = closure(wf, job)
    if here:
        if any(j.deploys == earlier for j in before):
            return None
        names = ", ".join(repr(j.id) for j in here)
        if wf.provider != GITHUB and job.manual:
            why = f"{label} by hand (when: manual) with no dependency on {earlier}'s deploy {names}"
            return Bypass(wf, job, job.deploys or "", earlier, "manual_no_dependency", why, sev)
        weak = " (its if: runs it whatever its needs' results)" if _weak_source(job) else ""
        why = f"{label} without {earlier}'s deploy {names} having succeeded: no needs path through it{weak}"
        return Bypass(wf, job, job.deploys or "", earlier, "no_path", why, sev)
    elsewhere = [w for w in repo if w is not wf and any(j.deploys == earlier for j in w.jobs)]
    if not elsewhere or wf.provider != GITHUB:
        return None
    upstream = {w.name for w in elsewhere}
    conditions = " ".join(c.condition or "" for c in (job, *before))
    ways: list[str] = []
    reason = "separate_trigger"
    for event, spec in wf.triggers.items():
        if event == "workflow_run":
            runs_after = set(_strs(spec.get("workflows") if isinstance(spec, dict) else None))
            if runs_after & upstream:
                if not _RUN_SUCCESS.search(conditions):
                    ways.append("workflow_run without checking the run succeeded")
                    reason = "runs_after_failure" if len(ways) == 1 else reason
                continue
        ways.append(event + (" (tags)" if event == "push" and isinstance(spec, dict) and "tags" in spec else ""))
    if not ways:
        return None
    if any(w != "workflow_run without checking the run succeeded" for w in ways):
        reason = "separate_trigger"
    why = f"{label} through {', '.join(ways)}, not after {earlier}'s deploy in {', '.join(sorted(upstream))}"
    return Bypass(wf, job, job.deploys or "", earlier, reason, why, sev)


def _strs(value: Json) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _guarded(conditions: str, defaults: Iterable[str]) -> bool:
    refs = {m.group(3) for m in _GH_REF.finditer(conditions)}
    return bool(refs) and refs <= set(defaults) and "||" not in conditions


def _github_branches(wf: Workflow, job: GraphJob) -> list[str]:
    conditions = " ".join(c.condition or "" for c in (job, *closure(wf, job)))
    if _guarded(conditions, wf.default_branches):
        return []
    out: list[str] = []
    for event in _BRANCH_TRIGGERS:
        if event not in wf.triggers:
            continue
        spec = wf.triggers[event]
        if event == "push" and isinstance(spec, dict):
            branches = _strs(spec.get("branches"))
            if "tags" in spec and not branches:
                out.append("push of tags (a tag can point at any commit)")
            elif not branches or "branches-ignore" in spec:
                out.append("push to any branch")
            elif set(branches) - set(wf.default_branches):
                out.append("push to " + ", ".join(sorted(set(branches) - set(wf.default_branches))))
        elif event == "workflow_dispatch":
            out.append("workflow_dispatch from any branch")
        else:
            out.append(event)
    return out


def _gitlab_limited(rules: Json, defaults: Iterable[str]) -> bool | None:
    """True: the rules limit to the default branch; False: they do not; None: no rules given."""
    if not isinstance(rules, list):
        return None
    for r in rules:
        if not isinstance(r, dict) or r.get("when") == "never":
            continue
        cond = r.get("if")
        if not isinstance(cond, str) or "||" in cond:
            return False
        named = [m for m in _GL_BRANCH.finditer(cond)]
        ok = any(m.group(2) == "$CI_DEFAULT_BRANCH" or m.group(4) == "$CI_DEFAULT_BRANCH" for m in named) or any(
            (m.group(3) or m.group(5)) in set(defaults) for m in named
        )
        if not ok:
            return False
    return True


def _gitlab_branches(wf: Workflow, job: GraphJob) -> list[str]:
    limited = _gitlab_limited(job.rules, wf.default_branches)
    if limited is None and job.only is not None:
        refs = _strs(job.only.get("refs") if isinstance(job.only, dict) else job.only)
        limited = bool(refs) and set(refs) <= set(wf.default_branches)
    if limited is None:
        limited = bool(_gitlab_limited(wf.workflow_rules, wf.default_branches))
    return [] if limited else ["rules/only that do not limit it to the default branch"]


def find_bypasses(workflows: Sequence[Workflow], promotion: Sequence[str]) -> list[Bypass]:
    """Every bypass in every repository (see the module docstring)."""
    out: list[Bypass] = []
    by_repo: dict[str, list[Workflow]] = {}
    for wf in workflows:
        by_repo.setdefault(wf.repo, []).append(wf)
    for repo in by_repo.values():
        for wf in repo:
            for job in wf.jobs:
                env = job.deploys
                if env is None or env not in promotion:
                    continue
                i = promotion.index(env)
                if i > 0:
                    b = _upstream_bypass(wf, job, promotion[i - 1], repo, _severity(env, promotion))
                    if b is not None:
                        out.append(b)
                if i == len(promotion) - 1 and len(promotion) > 1:
                    ways = _github_branches(wf, job) if wf.provider == GITHUB else _gitlab_branches(wf, job)
                    if ways:
                        why = (
                            f"job {job.id!r} ({wf.file}) deploys to {env} from a branch other than "
                            f"{' or '.join(wf.default_branches)}: {', '.join(ways)}"
                        )
                        out.append(Bypass(wf, job, env, None, "branch", why, "high"))
    return out
