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
from itertools import chain

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


class Reach:
    """One workflow's success dependencies (:func:`dependencies`), indexed once; closures memoised.

    Every walk is linear in jobs and ``needs`` edges: a GitLab job without ``needs`` waits for every job
    of the earlier stages, and a walk adds each stage's jobs once rather than once per job that waits for
    them. A chain of thousands of ``needs`` is read in linear time per deploy job, not cubic."""

    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        gitlab = wf.provider != GITHUB
        order = {s: i for i, s in enumerate(wf.stages)}
        self.stage = {j.id: order.get(j.stage or "test", 0) for j in wf.jobs}
        self.needs: dict[str, list[GraphJob]] = {}
        self.prefix: dict[str, int] = {}  # a stage-order job waits for the jobs of the stages before this one
        self.staged = [j for j in wf.jobs if gitlab and not j.allow_failure]  # what stage order waits for
        self.rev: dict[str, list[GraphJob]] = {}  # job -> the jobs that need it
        for j in wf.jobs:
            if j.id in self.needs:
                continue
            deps: list[GraphJob] = []
            if _weak_source(j):
                pass
            elif not gitlab or j.has_needs:
                deps = [d for n in j.needs if (d := wf.job(n)) is not None and not (gitlab and d.allow_failure)]
            else:
                self.prefix[j.id] = self.stage[j.id]
            self.needs[j.id] = deps
            for d in deps:
                self.rev.setdefault(d.id, []).append(j)
        self._closures: dict[str, list[GraphJob]] = {}
        self._waiters: dict[str, set[str]] = {}

    def deps(self, job: GraphJob) -> list[GraphJob]:
        p = self.prefix.get(job.id, 0)
        return [*self.needs.get(job.id, ()), *(d for d in self.staged if self.stage[d.id] < p)]

    def walk(self, start: Iterable[GraphJob], exclude: str | None = None, through: bool = True) -> list[GraphJob]:
        """Every job the ``start`` jobs wait for, transitively, in the order :func:`closure` always gave;
        ``through=False`` stops at deploy jobs (they are listed, what they wait for is not)."""
        seen: dict[str, GraphJob] = {}
        done = 0  # the jobs of the stages before this one are all seen
        todo = list(start)
        while todo:
            j = todo.pop()
            found: Iterable[GraphJob] = self.needs.get(j.id, ())
            p = self.prefix.get(j.id, 0)
            if p > done:
                found = chain(found, [d for d in self.staged if done <= self.stage[d.id] < p])
                done = p
            for d in found:
                if d.id not in seen and d.id != exclude:
                    seen[d.id] = d
                    if through or d.deploys is None:
                        todo.append(d)
        return list(seen.values())

    def closure(self, job: GraphJob) -> list[GraphJob]:
        got = self._closures.get(job.id)
        if got is None:
            got = self._closures[job.id] = self.walk([job], exclude=job.id)
        return got

    def waiters(self, job: GraphJob) -> set[str]:
        """The ids of every job that transitively waits for ``job`` to succeed."""
        got = self._waiters.get(job.id)
        if got is not None:
            return got
        seen: set[str] = set()
        low = len(self.wf.stages)  # the stage-order jobs of stages above this one are all seen
        todo = [job]
        staged = {d.id for d in self.staged}
        while todo:
            j = todo.pop()
            found: Iterable[GraphJob] = self.rev.get(j.id, ())
            s = self.stage.get(j.id, 0)
            if j.id in staged and s < low:
                found = chain(found, [w for w in self.wf.jobs if w.id in self.prefix and s < self.prefix[w.id] <= low])
                low = s
            for w in found:
                if w.id not in seen:
                    seen.add(w.id)
                    todo.append(w)
        self._waiters[job.id] = seen
        return seen


def reach(wf: Workflow) -> Reach:
    """The workflow's :class:`Reach`, built once."""
    got = wf.memo.get("reach")
    if not isinstance(got, Reach):
        got = wf.memo["reach"] = Reach(wf)
    return got


def dependencies(wf: Workflow, job: GraphJob) -> list[GraphJob]:
    """The jobs ``job`` waits for to *succeed* (see the module docstring)."""
    return reach(wf).deps(job)


def closure(wf: Workflow, job: GraphJob) -> list[GraphJob]:
    """Every job ``job`` transitively waits for to succeed (memoised per workflow)."""
    return reach(wf).closure(job)


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
