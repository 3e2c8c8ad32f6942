"""The deploy graph of one repository's CI definitions: plain data shared by the source and the analysis.

The ``pipeline`` source keeps, as Resources, only its environment's deploy jobs, normalised so mirrors
compare equal. What the promotion analysis needs besides, it records here and stores in its
snapshot's facts under :data:`FACT` (one JSON document per workflow or GitLab pipeline):

- every job of the workflow (deploy jobs of every environment, and the build/test jobs between them),
  its raw id, the environment it deploys to (``deploys``), its direct ``needs``, its GitLab stage and
  gates (``when: manual``, ``allow_failure``), its run conditions (GitHub ``if``; GitLab ``rules``,
  ``only``, ``except``) and the file line of the job and of each of its steps;
- the workflow's triggers (GitHub ``on:``; GitLab ``workflow: rules``) and stage order.

Facts, not attributes: a production job's link to the staging deploy it waits for differs from its
staging twin by construction and names the other environment, so as an attribute it would read as
``differs`` and ``cross_env_reference`` on every healthy pipeline; and step lines must not make a
moved step look like drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from parity.model import Json, Snapshot

FACT = "pipeline.workflows"
GITHUB = "github-actions"
GITLAB = "gitlab-ci"


@dataclass(frozen=True)
class StepRef:
    """Where one step of a job is written (its stable name is the one in the job's ``steps`` attribute)."""

    name: str
    file: str
    line: int


@dataclass(frozen=True)
class GraphJob:
    id: str
    name: str
    file: str
    line: int
    deploys: str | None = None  # the environment this job deploys to; None: not a deploy job
    environment: str | None = None  # the environment name as written (inputs resolved)
    needs: tuple[str, ...] = ()
    has_needs: bool = False  # GitLab: an explicit `needs:` (even empty) replaces stage ordering
    condition: str | None = None  # GitHub job `if:`
    stage: str | None = None  # GitLab
    when: str | None = None  # GitLab job-level when: (on_success, manual, always, ...)
    manual: bool = False
    allow_failure: bool = False
    rules: Json = None  # GitLab rules / only / except, as written
    only: Json = None
    except_: Json = None
    key: str = ""  # the Resource key of this job in the environment it deploys to
    steps: tuple[StepRef, ...] = ()


@dataclass(frozen=True)
class Workflow:
    provider: str  # github-actions | gitlab-ci
    repo: str  # the repository folder as shown
    file: str  # the workflow file (or .gitlab-ci.yml) as shown
    rel: str  # the same, relative to the repository folder (Resource ids are "{rel}#{job id}")
    name: str
    triggers: Mapping[str, Json] = field(default_factory=dict)  # GitHub on:, normalised to a mapping
    workflow_rules: Json = None  # GitLab workflow: rules
    stages: tuple[str, ...] = ()
    jobs: tuple[GraphJob, ...] = ()
    default_branches: tuple[str, ...] = ("main", "master")

    @cached_property
    def _by_id(self) -> dict[str, GraphJob]:
        out: dict[str, GraphJob] = {}
        for j in self.jobs:
            out.setdefault(j.id, j)
        return out

    @cached_property
    def memo(self) -> dict[str, Any]:
        """Scratch space of the analyses for this workflow (its dependency index): derived, never serialised."""
        return {}

    def job(self, job_id: str) -> GraphJob | None:
        return self._by_id.get(job_id)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Workflow:
        d: dict[str, Any] = json.loads(text)
        jobs = tuple(
            GraphJob(**{**j, "needs": tuple(j["needs"]), "steps": tuple(StepRef(**s) for s in j["steps"])})
            for j in d.pop("jobs")
        )
        return cls(
            **{**d, "stages": tuple(d["stages"]), "default_branches": tuple(d["default_branches"]), "jobs": jobs}
        )

    def resource_id(self, job: GraphJob) -> str:
        return f"{self.rel}#{job.id}"


def workflows_of(snapshots: Iterable[Snapshot]) -> list[Workflow]:
    """Every workflow recorded by pipeline sources, once each (the same repo is read per environment)."""
    seen: dict[tuple[str, str], Workflow] = {}
    for snap in snapshots:
        for raw in snap.facts.get(FACT, ()):
            wf = Workflow.from_json(raw)
            seen.setdefault((wf.repo, wf.file), wf)
    return [seen[k] for k in sorted(seen)]
