"""GitLab CI: ``.gitlab-ci.yml`` read into jobs, with ``include: local``, ``extends``, anchors,
``<<`` merge keys, ``!reference`` and ``default:`` resolved.

- ``include``: local files (a string path, ``{local: path}``, globs) are read, recursively, and merged
  under the including file (its own keys win, mappings merged deeply, as GitLab does). Remote,
  project, template and component includes cannot be read from a folder: each is a coverage gap
  ("unsupported"), so the comparison is marked incomplete rather than silently partial.
- ``extends`` (a name or a list, multi-level): the parents merged deeply in order, then the job.
- Jobs are the top-level mappings that are not keywords and not hidden (``.name``).
- Steps are the lines of ``before_script`` + ``script`` + ``after_script`` (nested lists flattened);
  a ``trigger:`` job has one step naming its downstream pipeline.
- ``when: manual`` (on the job or in one of its ``rules``) makes the job manual; a manual job is
  ``allow_failure: true`` by default unless made manual by a rule (GitLab's own defaults).

Malformed input (bad YAML, a job that is not a mapping, an unknown stage, a ``needs`` naming an
unknown job, an include of a missing local file, an ``extends`` cycle or unknown parent, an include
cycle) is an InputError naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.errors import InputError
from parity.model import CoverageGap, Json
from parity.pipelines.graph import GITLAB
from parity.sources import files
from parity.sources.pipeline.raw import RawJob, RawStep, RawWorkflow, str_list
from parity.sources.pipeline.yamlnodes import LList, LMap, Reference, lmap, load, plain

CI_FILE = ".gitlab-ci.yml"
KEYWORDS = frozenset(
    {"stages", "variables", "default", "include", "workflow", "image", "services", "cache", "before_script",
     "after_script", "types", "spec"}
)  # fmt: skip
DEFAULT_STAGES = ("build", "test", "deploy")
MAX_DEPTH = 11
_SETTINGS = ("stage", "when", "rules", "only", "except", "variables", "image", "tags", "allow_failure",
             "resource_group", "id_tokens", "trigger", "environment", "dependencies", "secrets")  # fmt: skip


@dataclass
class _Loaded:
    config: LMap
    gaps: list[CoverageGap] = field(default_factory=list)


def _merge(a: Any, b: Any) -> Any:
    """GitLab's deep merge: mappings merged key by key, anything else replaced by ``b``."""
    if isinstance(a, LMap) and isinstance(b, LMap):
        out = lmap(b.line, b.file)
        for k, v in a.items():
            out[k] = v
            out.key_lines[k] = a.line_of(k)
        for k, v in b.items():
            out[k] = _merge(out[k], v) if k in out else v
            out.key_lines[k] = b.line_of(k)
        return out
    return b


class Reader:
    def __init__(self, repo: Path, base: Path) -> None:
        self.repo = repo
        self.base = base

    def shown(self, path: Path) -> str:
        return files.display(path, self.base)

    def load(self, path: Path, stack: tuple[Path, ...]) -> _Loaded:
        shown = self.shown(path)
        doc = load(files.read_text(path, shown), shown)
        if doc is None:
            return _Loaded(lmap(1, shown))
        if not isinstance(doc, LMap):
            raise InputError(shown, "a GitLab CI file must be a mapping of jobs and keywords", doc_line(doc))
        merged = lmap(1, shown)
        gaps: list[CoverageGap] = []
        for spec, line in _includes(doc.get("include"), doc.line_of("include")):
            if not isinstance(spec, str):
                gaps.append(CoverageGap(scope=f"{shown}:{line}", reason=f"include {spec} not read", kind="unsupported"))
                continue
            targets = self.local(spec, shown, line)
            for target in targets:
                if target in stack or len(stack) >= MAX_DEPTH:
                    raise InputError(shown, f"include cycle through {spec}", line)
                inner = self.load(target, (*stack, target))
                merged = _merge(merged, inner.config)
                gaps += inner.gaps
        own = lmap(doc.line, shown)
        for k, v in doc.items():
            if k != "include":
                own[k] = v
                own.key_lines[k] = doc.line_of(k)
        return _Loaded(_merge(merged, own), gaps)

    def local(self, spec: str, shown: str, line: int) -> list[Path]:
        rel = spec.lstrip("/")
        if any(c in rel for c in "*?["):
            found = sorted(p for p in self.repo.glob(rel) if p.is_file())
            if not found:
                raise InputError(shown, f"include: local pattern {spec!r} matches no file", line)
            return found
        target = self.repo / rel
        if not target.is_file():
            raise InputError(shown, f"include: local file {spec!r} not found", line)
        return [target]


def doc_line(doc: Any) -> int:
    return int(getattr(doc, "line", 1))


def _includes(value: Json, line: int) -> list[tuple[Any, int]]:
    """(local path, line) for local includes; (description, line) for others (not readable here)."""
    items = value if isinstance(value, list) else ([] if value is None else [value])
    out: list[tuple[Any, int]] = []
    for i, item in enumerate(items):
        at = value.line_at(i) if isinstance(value, LList) else line
        if isinstance(item, str):
            out.append((item, at) if "://" not in item else ({"remote": item}, at))
        elif isinstance(item, LMap) and isinstance(item.get("local"), str):
            out.append((item["local"], item.line))
        elif isinstance(item, dict):
            out.append((plain(item), at))
    return out


def _resolve_refs(value: Any, root: LMap, shown: str, depth: int = 0) -> Any:
    """``value`` with every ``!reference`` replaced by what it names; nested lists flattened in place."""
    if isinstance(value, Reference):
        if depth > MAX_DEPTH:
            raise InputError(shown, "!reference nested too deeply (a cycle?)", value.line)
        node: Any = root
        for part in value.path:
            if not isinstance(node, dict) or part not in node:
                raise InputError(shown, f"!reference {list(value.path)} names nothing", value.line)
            node = node[part]
        return _resolve_refs(node, root, shown, depth + 1)
    if isinstance(value, LMap):
        out = lmap(value.line, value.file)
        for k, v in value.items():
            out[k] = _resolve_refs(v, root, shown, depth)
            out.key_lines[k] = value.line_of(k)
        return out
    if isinstance(value, list):
        items = LList()
        items.line, items.file = getattr(value, "line", 0), getattr(value, "file", shown)
        items.item_lines = []
        for i, v in enumerate(value):
            at = value.line_at(i) if isinstance(value, LList) else items.line
            got = _resolve_refs(v, root, shown, depth)
            if isinstance(v, Reference) and isinstance(got, list):
                items.extend(got)
                items.item_lines += [got.line_at(j) if isinstance(got, LList) else at for j in range(len(got))]
            else:
                items.append(got)
                items.item_lines.append(at)
        return items
    return value


def _extended(name: str, config: LMap, memo: dict[str, LMap], stack: tuple[str, ...]) -> LMap:
    if name in memo:
        return memo[name]
    job = config[name]
    parents = str_list(job.get("extends"))
    result: LMap = lmap(job.line, job.file)
    for parent in parents:
        where = job.line_of("extends")
        if parent not in config or not isinstance(config[parent], LMap):
            raise InputError(job.file, f"job {name!r} extends unknown job {parent!r}", where)
        if parent in stack or len(stack) >= MAX_DEPTH:
            raise InputError(job.file, f"job {name!r}: extends cycle {' -> '.join((*stack, parent))}", where)
        result = _merge(result, _extended(parent, config, memo, (*stack, parent)))
    own = lmap(job.line, job.file)
    for k, v in job.items():
        if k != "extends":
            own[k] = v
            own.key_lines[k] = job.line_of(k)
    memo[name] = _merge(result, own)
    return memo[name]


def _script_steps(job: LMap, name: str, default: LMap) -> list[RawStep]:
    out: list[RawStep] = []
    for section in ("before_script", "script", "after_script"):
        lines = job.get(section, default.get(section))
        if lines is None:
            continue
        if isinstance(lines, str):
            lines = [lines]
        if not isinstance(lines, list):
            raise InputError(job.file, f"job {name!r}: {section} must be a list of commands", job.line_of(section))
        for text, line, file in _flatten(lines, job.file):
            out.append(RawStep({"run": text, "section": section}, file, line))
    trigger = job.get("trigger")
    if trigger is not None:
        out.append(RawStep({"trigger": plain(trigger)}, job.file, job.line_of("trigger")))
    return out


def _flatten(items: list[Any], file: str) -> list[tuple[str, int, str]]:
    out: list[tuple[str, int, str]] = []
    for i, item in enumerate(items):
        line = items.line_at(i) if isinstance(items, LList) else 0
        where = getattr(items, "file", "") or file
        if isinstance(item, list):
            out += _flatten(item, where)
        elif item is not None:
            out.append((str(item), line, where))
    return out


def _manual(job: LMap) -> tuple[bool, bool]:
    """(manual, allow_failure): a job-level ``when: manual`` allows failure by default, a rule's does not."""
    explicit = job.get("allow_failure")
    if job.get("when") == "manual":
        return True, explicit is not False if not isinstance(explicit, dict) else True
    rules = job.get("rules")
    if isinstance(rules, list) and any(isinstance(r, dict) and r.get("when") == "manual" for r in rules):
        return True, explicit is True or any(
            isinstance(r, dict) and r.get("when") == "manual" and r.get("allow_failure") is True for r in rules
        )
    return False, explicit is True


def read(repo: Path, base: Path) -> tuple[RawWorkflow | None, list[CoverageGap]]:
    path = repo / CI_FILE
    if not path.is_file():
        return None, []
    reader = Reader(repo, base)
    shown = reader.shown(path)
    loaded = reader.load(path, (path.resolve(),))
    config = _resolve_refs(loaded.config, loaded.config, shown)
    stages = str_list(config.get("stages")) or list(DEFAULT_STAGES)
    stages = [".pre", *[s for s in stages if s not in (".pre", ".post")], ".post"]
    default = config.get("default") if isinstance(config.get("default"), LMap) else lmap(1, shown)
    for k in ("before_script", "after_script", "image"):
        if k in config and k not in default:
            default[k] = config[k]
    names = [k for k in config if k not in KEYWORDS and not k.startswith(".")]
    memo: dict[str, LMap] = {}
    jobs: list[RawJob] = []
    for name in names:
        if not isinstance(config[name], LMap):
            raise InputError(config[name].file if hasattr(config[name], "file") else shown,
                             f"job {name!r} must be a mapping", config.line_of(name))  # fmt: skip
        job = _extended(name, config, memo, (name,))
        stage = job.get("stage", "test")
        if stage not in stages:
            raise InputError(job.file, f"job {name!r}: stage {stage!r} is not in stages", job.line_of("stage"))
        env = job.get("environment")
        env_name = env.get("name") if isinstance(env, dict) else env
        action = env.get("action") if isinstance(env, dict) else None
        needs_raw = job.get("needs")
        needs: list[str] = []
        optional: set[str] = set()
        for n in needs_raw if isinstance(needs_raw, list) else []:
            if isinstance(n, str):
                needs.append(n)
            elif isinstance(n, dict) and isinstance(n.get("job"), str) and "pipeline" not in n and "project" not in n:
                needs.append(n["job"])
                if n.get("optional") is True:
                    optional.add(n["job"])
        manual, allow_failure = _manual(job)
        settings = {k: plain(job[k]) for k in _SETTINGS if k in job}
        settings.setdefault("stage", stage)
        jobs.append(
            RawJob(
                id=name,
                name=name,
                file=job.file,
                line=config.line_of(name),
                environment=str(env_name) if isinstance(env_name, str | int) else None,
                environment_action=str(action) if isinstance(action, str) else None,
                needs=needs,
                has_needs=isinstance(needs_raw, list),
                steps=_script_steps(job, name, default),
                settings=settings,
                manual=manual,
                allow_failure=allow_failure,
            )
        )
        for n in needs:
            if n not in names and n not in optional:
                raise InputError(job.file, f"job {name!r} needs unknown job {n!r}", job.line_of("needs"))
    workflow = config.get("workflow")
    wf = RawWorkflow(
        provider=GITLAB,
        file=shown,
        rel=CI_FILE,
        name=CI_FILE,
        jobs=jobs,
        workflow_rules=plain(workflow.get("rules")) if isinstance(workflow, dict) else None,
        stages=stages,
    )
    return wf, loaded.gaps
