"""GitHub Actions: ``.github/workflows/*.yml`` read into jobs, local reusable workflows and composite
actions resolved into their steps.

- A job ``uses: ./.github/workflows/x.yml`` (a reusable workflow in the same repository) gets the steps
  of the called workflow's jobs (prefixed ``x.yml/<job>/`` when it has several), its ``environment``,
  ``runs-on`` and ``permissions`` where the caller sets none; plain ``${{ inputs.x }}`` references are
  replaced by the caller's ``with:`` values (or the input's default). Calls into other repositories
  keep ``uses`` as written.
- A step ``uses: ./path`` naming a composite action (``./path/action.yml`` with ``runs.using:
  composite``) is replaced by the action's steps (prefixed ``path/``), inputs substituted likewise.
- A workflow whose only trigger is ``workflow_call`` has no jobs of its own: they run inside callers.

Malformed input (bad YAML, ``jobs`` not a mapping, a ``needs`` naming an unknown job, a ``needs`` cycle or a
job that needs itself, a missing local action or workflow, a call cycle, a local ``uses:`` or a workflow file
that resolves outside the repository, more than :data:`MAX_STEPS` steps once local actions and workflows are
expanded) is an InputError naming the file and line; nothing outside the repository is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parity.errors import InputError
from parity.model import Json
from parity.pipelines.graph import GITHUB
from parity.sources import files
from parity.sources.pipeline.raw import (
    RawJob,
    RawStep,
    RawWorkflow,
    inside,
    needs_cycle,
    str_list,
    substitute_inputs,
)
from parity.sources.pipeline.yamlnodes import LList, LMap, load, plain

WORKFLOW_DIR = Path(".github") / "workflows"
SUFFIXES = (".yml", ".yaml")
MAX_DEPTH = 10
# steps of one workflow file once local composite actions and reusable workflows are expanded: a few
# actions each used ten times by the next would otherwise multiply into billions of steps (a hang)
MAX_STEPS = 50_000
# job keys kept as compared settings (attributes), renamed where GitHub uses dashes
_JOB_SETTINGS = {
    "runs-on": "runs_on",
    "permissions": "permissions",
    "if": "if",
    "uses": "uses",
    "with": "with",
    "env": "env",
    "secrets": "secrets",
    "strategy": "strategy",
    "container": "container",
    "concurrency": "concurrency",
    "timeout-minutes": "timeout_minutes",
    "continue-on-error": "continue_on_error",
}


def workflow_files(repo: Path) -> list[Path]:
    folder = repo / WORKFLOW_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))


def triggers_of(on: Json) -> dict[str, Json]:
    """``on:`` as a mapping ``event -> filters`` (a string or a list of events mean no filters)."""
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {str(e): {} for e in on}
    if isinstance(on, dict):
        return {str(k): ({} if v is None else plain(v)) for k, v in on.items()}
    return {}


class Reader:
    """Reads one repository's workflows; caches parsed files (a reusable workflow may be called often)."""

    def __init__(self, repo: Path, base: Path) -> None:
        self.repo = repo
        self.base = base
        self._docs: dict[Path, Any] = {}
        self.budget = MAX_STEPS
        self._actions: dict[str, Path | str] = {}  # local step uses: -> its action file, or why there is none
        self._shown: dict[Path, str] = {}

    def shown(self, path: Path) -> str:
        got = self._shown.get(path)
        if got is None:
            got = self._shown[path] = files.display(path, self.base)
        return got

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.repo.resolve()).as_posix()
        except ValueError:
            return path.name

    def doc(self, path: Path) -> Any:
        if path not in self._docs:
            shown = self.shown(path)
            self._docs[path] = load(files.read_text(path, shown), shown)
        return self._docs[path]

    def workflow(self, path: Path) -> RawWorkflow | None:
        """The workflow's jobs, or None for a reusable-only workflow (``on: workflow_call`` alone)."""
        shown = self.shown(path)
        if not inside(self.repo, path):
            link = f"{self.shown(path.parent)}/{path.name}"
            raise InputError(link, "resolves outside the repository (a symlink?): not read")
        self.budget = MAX_STEPS
        doc = self.doc(path)
        if not isinstance(doc, LMap):
            raise InputError(shown, "a workflow must be a mapping with 'on' and 'jobs'", getattr(doc, "line", 1))
        triggers = triggers_of(doc.get("on"))
        jobs = self.jobs(doc, shown, {}, ())
        _inherit(jobs, doc)
        if set(triggers) == {"workflow_call"}:
            return None
        name = doc.get("name")
        return RawWorkflow(
            provider=GITHUB,
            file=shown,
            rel=self.rel(path),
            name=str(name) if isinstance(name, str) else self.rel(path),
            jobs=jobs,
            triggers=triggers,
        )

    def jobs(self, doc: LMap, shown: str, inputs: dict[str, Json], stack: tuple[Path, ...]) -> list[RawJob]:
        jobs = doc.get("jobs")
        if not isinstance(jobs, LMap) or not jobs:
            raise InputError(shown, "'jobs' must be a mapping of job id -> job", doc.line_of("jobs"))
        out: list[RawJob] = []
        for jid, job in jobs.items():
            line = jobs.line_of(jid)
            if not isinstance(job, LMap):
                raise InputError(shown, f"job {jid!r} must be a mapping", line)
            out.append(self.job(jid, job, shown, line, inputs, stack))
        known = {j.id for j in out}
        for j, (jid, job) in zip(out, jobs.items(), strict=True):
            for n in j.needs:
                if n not in known:
                    raise InputError(shown, f"job {jid!r} needs unknown job {n!r}", job.line_of("needs"))
        cycle = needs_cycle({j.id: j.needs for j in out})
        if cycle is not None:
            where = jobs[cycle[0]].line_of("needs")
            if len(cycle) == 2:
                raise InputError(shown, f"job {cycle[0]!r} needs itself (GitHub refuses the workflow)", where)
            chain = " -> ".join(repr(c) for c in cycle)
            raise InputError(shown, f"needs cycle: {chain} (GitHub refuses the workflow)", where)
        return out

    def job(
        self, jid: str, job: LMap, shown: str, line: int, inputs: dict[str, Json], stack: tuple[Path, ...]
    ) -> RawJob:
        name = job.get("name")
        settings = {new: substitute_inputs(plain(job[old]), inputs) for old, new in _JOB_SETTINGS.items() if old in job}
        env, _url = _environment(substitute_inputs(plain(job.get("environment")), inputs))
        raw = RawJob(
            id=jid,
            name=str(substitute_inputs(name, inputs)) if isinstance(name, str) else jid,
            file=shown,
            line=line,
            environment=env,
            needs=str_list(job.get("needs")),
            has_needs="needs" in job,
            settings=settings,
        )
        uses = job.get("uses")
        if isinstance(uses, str) and uses.startswith("./"):
            self.call(raw, uses, job, shown, inputs, stack)
        else:
            raw.steps = self.steps(job.get("steps"), shown, job.line_of("steps"), inputs, stack, "")
        return raw

    def call(
        self, raw: RawJob, uses: str, job: LMap, shown: str, inputs: dict[str, Json], stack: tuple[Path, ...]
    ) -> None:
        """Resolve a local reusable workflow into ``raw``: its steps, environment, runner and permissions."""
        where = job.line_of("uses")
        if "\x00" in uses:
            raise InputError(shown, f"job {raw.id!r} calls {uses!r}: not a valid path (a NUL character)", where)
        target = (self.repo / uses).resolve()
        if not inside(self.repo, target):
            raise InputError(shown, f"job {raw.id!r} calls {uses}, which is outside the repository: not read", where)
        if not target.is_file():
            raise InputError(shown, f"job {raw.id!r} calls {uses}, which does not exist", where)
        if target in stack:
            raise InputError(shown, f"job {raw.id!r}: reusable workflow call cycle through {uses}", where)
        if len(stack) >= MAX_DEPTH:
            raise InputError(shown, f"job {raw.id!r} calls {uses}: workflows nested more than {MAX_DEPTH} deep", where)
        called = self.doc(target)
        cshown = self.shown(target)
        if not isinstance(called, LMap):
            raise InputError(cshown, "a workflow must be a mapping with 'on' and 'jobs'", 1)
        given = substitute_inputs(plain(job.get("with") or {}), inputs)
        call_inputs = _defaults(triggers_of(called.get("on")).get("workflow_call"))
        if isinstance(given, dict):
            call_inputs.update(given)
        inner = self.jobs(called, cshown, call_inputs, (*stack, target))
        _inherit(inner, called)
        label = target.name
        for j in inner:
            prefix = f"{label}/" + (f"{j.id}/" if len(inner) > 1 else "")
            raw.steps += [RawStep(s.data, s.file, s.line, prefix + s.prefix) for s in j.steps]
            if raw.environment is None and j.environment is not None:
                raw.environment = j.environment
            for key in ("runs_on", "permissions"):
                if key not in raw.settings and key in j.settings:
                    raw.settings[key] = j.settings[key]
            if "if" in j.settings:
                raw.settings.setdefault("called_if", j.settings["if"])

    def steps(
        self, steps: Json, shown: str, line: int, inputs: dict[str, Json], stack: tuple[Path, ...], prefix: str
    ) -> list[RawStep]:
        if steps is None:
            return []
        if not isinstance(steps, LList):
            raise InputError(shown, "'steps' must be a list", line)
        out: list[RawStep] = []
        for i, step in enumerate(steps):
            at = steps.line_at(i)
            if not isinstance(step, LMap):
                raise InputError(shown, "a step must be a mapping (uses: or run:)", at)
            uses = step.get("uses")
            if isinstance(uses, str) and uses.startswith("./"):
                expanded = self.composite(uses, step, shown, at, inputs, stack)
                if expanded is not None:
                    out += [RawStep(s.data, s.file, s.line, prefix + s.prefix) for s in expanded]
                    continue
            self.spend(shown, at)
            out.append(RawStep(substitute_inputs(plain(step), inputs), shown, at, prefix))
        return out

    def spend(self, shown: str, line: int) -> None:
        """One more step (or local action expanded) for the workflow being read: past :data:`MAX_STEPS`,
        an error rather than billions of steps from actions that use each other repeatedly."""
        self.budget -= 1
        if self.budget < 0:
            why = f"expands to more than {MAX_STEPS:,} steps (local actions or reusable workflows used repeatedly)"
            raise InputError(shown, why, line)

    def local_action(self, uses: str) -> Path | str:
        """The action file a local step ``uses:`` names, or why there is none; looked up once per path
        (and never outside the repository)."""
        got = self._actions.get(uses)
        if got is None:
            if "\x00" in uses:
                return "which is not a valid path (a NUL character)"
            folder = (self.repo / uses).resolve()
            if not inside(self.repo, folder):
                got = "which is outside the repository: not read"
            else:
                names = ("action.yml", "action.yaml")
                got = next((folder / n for n in names if (folder / n).is_file()), "which has no action.yml")
            self._actions[uses] = got
        return got

    def composite(
        self, uses: str, step: LMap, shown: str, line: int, inputs: dict[str, Json], stack: tuple[Path, ...]
    ) -> list[RawStep] | None:
        """The steps of a local composite action, or None for a local Docker/JavaScript action."""
        self.spend(shown, line)
        action = self.local_action(uses)
        if isinstance(action, str):
            raise InputError(shown, f"step uses {uses}, {action}", line)
        if action in stack:
            raise InputError(shown, f"composite action cycle through {uses}", line)
        if len(stack) >= MAX_DEPTH:
            raise InputError(shown, f"step uses {uses}: local actions nested more than {MAX_DEPTH} deep", line)
        doc = self.doc(action)
        ashown = self.shown(action)
        runs = doc.get("runs") if isinstance(doc, LMap) else None
        if not isinstance(runs, LMap):
            raise InputError(ashown, "an action must have 'runs'", getattr(doc, "line", 1))
        if runs.get("using") != "composite":
            return None
        given = substitute_inputs(plain(step.get("with") or {}), inputs)
        action_inputs = _defaults(doc)
        if isinstance(given, dict):
            action_inputs.update(given)
        label = uses[2:].rstrip("/") + "/"
        inner = self.steps(runs.get("steps"), ashown, runs.line_of("steps"), action_inputs, (*stack, action), "")
        return [RawStep(s.data, s.file, s.line, label + s.prefix) for s in inner]


def _inherit(jobs: list[RawJob], doc: LMap) -> None:
    """Workflow-level ``permissions`` and ``env`` apply to every job that does not override them."""
    perms, env = doc.get("permissions"), doc.get("env")
    for j in jobs:
        if perms is not None and "permissions" not in j.settings:
            j.settings["permissions"] = plain(perms)
        if isinstance(env, dict):
            own = j.settings.get("env")
            j.settings["env"] = {**plain(env), **(own if isinstance(own, dict) else {})}


def _defaults(spec: Json) -> dict[str, Json]:
    """The defaults of a reusable workflow's or action's ``inputs:``."""
    out: dict[str, Json] = {}
    decl = spec.get("inputs") if isinstance(spec, dict) else None
    if isinstance(decl, dict):
        for name, d in decl.items():
            if isinstance(d, dict) and "default" in d:
                out[str(name)] = plain(d["default"])
    return out


def _environment(value: Json) -> tuple[str | None, str | None]:
    """A job's ``environment:`` (a name, or ``{name, url}``) as (name, url)."""
    if isinstance(value, str) and value:
        return value, None
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        url = value.get("url")
        return value["name"], url if isinstance(url, str) else None
    return None, None


def read(repo: Path, base: Path) -> list[RawWorkflow]:
    """Every workflow of ``repo`` that has jobs of its own."""
    reader = Reader(repo, base)
    out: list[RawWorkflow] = []
    for path in workflow_files(repo):
        wf = reader.workflow(path)
        if wf is not None:
            out.append(wf)
    return out
