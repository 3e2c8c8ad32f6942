"""GitLab CI: ``.gitlab-ci.yml`` read into jobs, with ``include: local``, ``extends``, anchors,
``<<`` merge keys, ``!reference`` and ``default:`` resolved.

- ``include``: local files (a string path, ``{local: path}``, globs) are read, recursively, and merged
  under the including file (its own keys win, mappings merged deeply, as GitLab does). Each file is read
  and parsed once however often it is included; as in GitLab, at most :data:`MAX_INCLUDES` includes in all,
  nested and repeated ones counted (which also bounds the nesting depth). Remote, project, template and
  component includes cannot be read from a folder: each is a coverage gap ("unsupported"), so the
  comparison is marked incomplete rather than silently partial.
- ``!reference`` tags resolve to at most :data:`MAX_VALUES` values in all and nest at most
  :data:`MAX_DEPTH` deep: references repeated at every level cannot multiply into a hang.
- ``extends`` (a name or a list, multi-level): the parents merged deeply in order, then the job.
- Jobs are the top-level mappings that are not keywords and not hidden (``.name``).
- Steps are the lines of ``before_script`` + ``script`` + ``after_script`` (nested lists flattened);
  a ``trigger:`` job has one step naming its downstream pipeline.
- ``when: manual`` (on the job or in one of its ``rules``) makes the job manual; a manual job is
  ``allow_failure: true`` by default unless made manual by a rule (GitLab's own defaults).

Malformed input (bad YAML, a job that is not a mapping, an unknown stage, a ``needs`` naming an
unknown job, a ``needs`` cycle, an include of a missing local file or of one outside the repository, more
than :data:`MAX_INCLUDES` includes, an ``extends`` cycle or unknown parent, an include cycle, a
``!reference`` naming nothing or expanding past its budget) is an InputError naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.errors import InputError
from parity.model import CoverageGap, Json
from parity.pipelines.graph import GITLAB
from parity.sources import files
from parity.sources.pipeline.raw import RawJob, RawStep, RawWorkflow, inside, needs_cycle, str_list
from parity.sources.pipeline.yamlnodes import MAX_VALUES, LList, LMap, Reference, lmap, load, plain

CI_FILE = ".gitlab-ci.yml"
KEYWORDS = frozenset(
    {"stages", "variables", "default", "include", "workflow", "image", "services", "cache", "before_script",
     "after_script", "types", "spec"}
)  # fmt: skip
DEFAULT_STAGES = ("build", "test", "deploy")
MAX_DEPTH = 11  # extends levels (GitLab: up to 11) and !reference nesting (GitLab: 10)
MAX_INCLUDES = 150  # GitLab's default limit per pipeline, nested and repeated includes counted
# steps and setting values of all jobs together: one large hidden job extended by hundreds of jobs would
# otherwise copy into millions of steps (a hang, not an error)
MAX_JOB_VALUES = 200_000
_SETTINGS = ("stage", "when", "rules", "only", "except", "variables", "image", "tags", "allow_failure",
             "resource_group", "id_tokens", "trigger", "environment", "dependencies", "secrets")  # fmt: skip


@dataclass
class _Loaded:
    config: LMap
    gaps: list[CoverageGap] = field(default_factory=list)
    includes: int = 0  # the includes under this file, nested and repeated ones counted (GitLab counts them)


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
        self._loaded: dict[Path, _Loaded] = {}  # resolved path -> the file with its includes merged

    def shown(self, path: Path) -> str:
        return files.display(path, self.base)

    def load(self, path: Path, stack: tuple[Path, ...]) -> _Loaded:
        """``path`` (resolved) with its includes merged; ``stack``: the files including it, itself last.
        A file included again is not read again: its merged form is reused (it depends on nothing but
        the file), and its includes count again towards :data:`MAX_INCLUDES`, as GitLab counts them."""
        if path in self._loaded:
            return self._loaded[path]
        shown = self.shown(path)
        doc = load(files.read_text(path, shown), shown)
        if doc is None:
            self._loaded[path] = _Loaded(lmap(1, shown))
            return self._loaded[path]
        if not isinstance(doc, LMap):
            raise InputError(shown, "a GitLab CI file must be a mapping of jobs and keywords", doc_line(doc))
        merged = lmap(1, shown)
        gaps: list[CoverageGap] = []
        count = 0
        for spec, line in _includes(doc.get("include"), doc.line_of("include")):
            if not isinstance(spec, str):
                count += 1
                gaps.append(CoverageGap(scope=f"{shown}:{line}", reason=f"include {spec} not read", kind="unsupported"))
                continue
            for target in self.local(spec, shown, line):
                if target in stack:
                    chain = " -> ".join(self.shown(p) for p in (*stack[stack.index(target) :], target))
                    raise InputError(shown, f"include cycle through {spec}: {chain}", line)
                if len(stack) > MAX_INCLUDES:  # nested deeper than the includes GitLab allows in all
                    raise InputError(shown, _too_many(), line)
                inner = self.load(target, (*stack, target))
                count += 1 + inner.includes
                if count > MAX_INCLUDES:
                    raise InputError(shown, _too_many(), line)
                merged = _merge(merged, inner.config)
                gaps += inner.gaps
        own = lmap(doc.line, shown)
        for k, v in doc.items():
            if k != "include":
                own[k] = v
                own.key_lines[k] = doc.line_of(k)
        self._loaded[path] = _Loaded(_merge(merged, own), gaps, count)
        return self._loaded[path]

    def local(self, spec: str, shown: str, line: int) -> list[Path]:
        """The files a local include names (resolved); one outside the repository is an error, not read."""
        rel = spec.lstrip("/")
        if "\x00" in rel:
            raise InputError(shown, f"include: local file {spec!r} is not a valid path (a NUL character)", line)
        if any(c in rel for c in "*?["):
            try:
                found = sorted({p.resolve() for p in self.repo.glob(rel) if p.is_file() and inside(self.repo, p)})
            except (ValueError, NotImplementedError) as e:  # "a/**b": ** must be a whole path component
                raise InputError(shown, f"include: local pattern {spec!r} is not valid: {e}", line) from None
            if not found:
                raise InputError(shown, f"include: local pattern {spec!r} matches no file in the repository", line)
            return found
        target = self.repo / rel
        if not inside(self.repo, target):
            raise InputError(shown, f"include: local file {spec!r} is outside the repository: not read", line)
        if not target.is_file():
            raise InputError(shown, f"include: local file {spec!r} not found", line)
        return [target.resolve()]


def _too_many() -> str:
    return f"more than {MAX_INCLUDES} includes in all (GitLab's limit; nested and repeated includes count)"


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


class _References:
    """Resolves every ``!reference`` of the merged configuration ``root``, within a budget of
    :data:`MAX_VALUES` values produced by references in all: references repeated at each level of a
    chain of references multiply (ten per level, eight levels: 10^8 values), which would hang, not fail."""

    def __init__(self, root: LMap, shown: str) -> None:
        self.root = root
        self.shown = shown
        self.budget = MAX_VALUES
        self.outer: Reference | None = None  # the reference written in a job whose expansion is under way

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """``value`` with every ``!reference`` replaced by what it names; nested lists flattened in place."""
        ref = self.outer
        if ref is not None:  # only what references produce is charged: a large file without any is fine
            self.budget -= 1
            if self.budget < 0:
                why = f"!reference {list(ref.path)} expands to more than {MAX_VALUES:,} values (nested or repeated)"
                raise InputError(ref.file or self.shown, why, ref.line)
        if isinstance(value, Reference):
            return self.reference(value, depth)
        if isinstance(value, LMap):
            out = lmap(value.line, value.file)
            for k, v in value.items():
                out[k] = self.resolve(v, depth)
                out.key_lines[k] = value.line_of(k)
            return out
        if isinstance(value, list):
            items = LList()
            items.line, items.file = getattr(value, "line", 0), getattr(value, "file", self.shown)
            items.item_lines = []
            for i, v in enumerate(value):
                at = value.line_at(i) if isinstance(value, LList) else items.line
                got = self.resolve(v, depth)
                if isinstance(v, Reference) and isinstance(got, list):
                    items.extend(got)
                    items.item_lines += [got.line_at(j) if isinstance(got, LList) else at for j in range(len(got))]
                else:
                    items.append(got)
                    items.item_lines.append(at)
            return items
        return value

    def reference(self, ref: Reference, depth: int) -> Any:
        file = ref.file or self.shown
        if depth > MAX_DEPTH:
            raise InputError(file, f"!reference {list(ref.path)} nested too deeply (a cycle?)", ref.line)
        node: Any = self.root
        for part in ref.path:
            if not isinstance(node, dict) or part not in node:
                raise InputError(file, f"!reference {list(ref.path)} names nothing", ref.line)
            node = node[part]
        if self.outer is not None:
            return self.resolve(node, depth + 1)
        self.outer = ref
        try:
            return self.resolve(node, depth + 1)
        finally:
            self.outer = None


def _resolve_refs(value: LMap, shown: str) -> LMap:
    try:
        out = _References(value, shown).resolve(value)
    except RecursionError:
        raise InputError(shown, "!reference nested too deeply") from None
    assert isinstance(out, LMap)
    return out


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
        if parent in stack:
            raise InputError(job.file, f"job {name!r}: extends cycle {' -> '.join((*stack, parent))}", where)
        if len(stack) > MAX_DEPTH:
            deep = f"job {name!r}: extends more than {MAX_DEPTH} levels deep (GitLab's limit)"
            raise InputError(job.file, deep, where)
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


def _size(value: Any, cap: int) -> int:
    """How many values ``value`` holds, counted up to a little past ``cap`` (then the count stops)."""
    count = 0
    todo = [value]
    while todo and count <= cap:
        v = todo.pop()
        count += 1
        if isinstance(v, dict):
            todo += v.values()
        elif isinstance(v, list):
            todo += v
    return count


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
    if not inside(repo, path):
        raise InputError(f"{reader.shown(repo)}/{CI_FILE}", "resolves outside the repository (a symlink?): not read")
    loaded = reader.load(path.resolve(), (path.resolve(),))
    config = _resolve_refs(loaded.config, shown)
    stages = str_list(config.get("stages")) or list(DEFAULT_STAGES)
    stages = [".pre", *[s for s in stages if s not in (".pre", ".post")], ".post"]
    given = config.get("default")
    default = given if isinstance(given, LMap) else lmap(1, shown)
    for k in ("before_script", "after_script", "image"):
        if k in config and k not in default:
            default[k] = config[k]
    names = [k for k in config if k not in KEYWORDS and not k.startswith(".")]
    memo: dict[str, LMap] = {}
    jobs: list[RawJob] = []
    later: dict[str, tuple[int, list[str]]] = {}  # job -> (its stage's index, its needs)
    budget = MAX_JOB_VALUES
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
        steps = _script_steps(job, name, default)
        budget -= len(steps) + sum(_size(job[k], budget) for k in _SETTINGS if k in job)
        if budget < 0:
            why = f"jobs expand to more than {MAX_JOB_VALUES:,} steps and values in all (many extend a large job?)"
            raise InputError(job.file, why, config.line_of(name))
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
                steps=steps,
                settings=settings,
                manual=manual,
                allow_failure=allow_failure,
            )
        )
        for n in needs:
            if n not in names and n not in optional:
                raise InputError(job.file, f"job {name!r} needs unknown job {n!r}", job.line_of("needs"))
        later[name] = (stages.index(stage), needs)
    for name, (mine, needs) in later.items():
        for n in needs:
            if n in later and later[n][0] > mine:
                job = _extended(name, config, memo, (name,))
                why = f"job {name!r} needs {n!r}, which runs in a later stage (GitLab refuses the pipeline)"
                raise InputError(job.file, why, job.line_of("needs"))
    cycle = needs_cycle({j.id: j.needs for j in jobs})
    if cycle is not None:
        first = next(j for j in jobs if j.id == cycle[0])
        where = _extended(first.id, config, memo, (first.id,)).line_of("needs")
        what = f"job {cycle[0]!r} needs itself" if len(cycle) == 2 else "needs cycle: " + " -> ".join(map(repr, cycle))
        raise InputError(first.file, f"{what} (GitLab refuses the pipeline)", where)
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
    return wf, list(dict.fromkeys(loaded.gaps))  # a file included twice gives its gaps once
