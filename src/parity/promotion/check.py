"""``parity promote-check``: may these artifacts go to a stage? Judged from the stored ledger, before a deploy.

The candidates are what is about to be deployed to ``target``: images from rendered manifests (and their
``helm.sh/chart`` labels), from an image list, or from a Terraform plan (ECS container images, Lambda code
hashes and image URIs in ``planned_values``, pinned module versions in ``configuration``). Each must have
been observed in the previous stage of ``promotion`` at some time (the same identity rules as the ledger:
:mod:`.artifacts`). The previous stage must also be free of unresolved drift of high or critical severity:
findings naming it that are new, open or recurring, except comparisons with ``target`` itself (the
deployment is what closes those).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.errors import InputError
from parity.model import Finding, Json, Resource
from parity.normalize.placeholders import Placeholders
from parity.promotion.artifacts import Artifact, artifacts_of, parse_image, shape, shown_value
from parity.promotion.ledger import Ledger, Sighting
from parity.promotion.reference import reference_problem
from parity.sources.terraform.common import load_json

CHECKED_KINDS = frozenset({"image", "lambda_code", "helm_chart", "module"})
BLOCKING_SEVERITIES = frozenset({"critical", "high"})
OPEN_STATUSES = frozenset({"new", "open", "recurring"})


@dataclass(frozen=True)
class Candidate:
    """One artifact about to be deployed, and where the input named it."""

    artifact: Artifact
    origin: str


@dataclass
class CheckResult:
    """The judgement: each candidate with its sighting in ``previous`` (None: never ran there), the blocking
    drift of ``previous``, and ``notes`` on what the input held that could not be checked."""

    target: str
    previous: str
    judged: list[tuple[Candidate, Sighting | None]] = field(default_factory=list)
    drift: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        out = [
            f"{c.artifact.kind.replace('_', ' ')} {c.artifact.shown} ({c.origin}) has never run in {self.previous}"
            for c, seen in self.judged
            if seen is None
        ]
        if self.drift:
            worst = "critical" if any(f.severity == "critical" for f in self.drift) else "high"
            out.append(
                f"{self.previous} has {len(self.drift)} open {worst}-severity drift finding(s): "
                + ", ".join(f"{f.id} ({f.kind} {f.key})" for f in self.drift[:5])
                + (" …" if len(self.drift) > 5 else "")
            )
        return out

    @property
    def complete(self) -> bool:
        """Something was checked, and nothing in the input was skipped as unreadable."""
        return bool(self.judged) and not self.notes

    def exit_code(self, strict: bool = False) -> int:
        """2 blocked; else 3 with ``strict`` when nothing was checked or something was skipped; else 0."""
        if self.reasons:
            return 2
        return 3 if strict and not self.complete else 0


def images_from_lines(text: str, shown: str, ph: Placeholders) -> list[Candidate]:
    """One image reference per line; blank lines and ``#`` comments skipped. A line that is no valid
    reference (:mod:`.reference`) is an InputError naming the line."""
    out: list[Candidate] = []
    for n, line in enumerate(text.splitlines(), 1):
        ref = line.split("#", 1)[0].strip()  # "#" never occurs in an image reference
        if not ref:
            continue
        img = parse_image(ref, ph)
        problem = reference_problem(ref)
        if img is None or problem is not None:
            why = problem or "is malformed"
            raise InputError(
                shown,
                f"{shown_value(ref)} is not an image reference ([registry/]repository[:tag][@digest]): it {why}",
                n,
            )
        out.append(Candidate(Artifact("image", f"input#{n}", "image", img.identity, ref, img), f"{shown}:{n}"))
    return out


def from_resources(
    resources: Sequence[Resource], ph: Placeholders, shown: str, notes: list[str] | None = None
) -> list[Candidate]:
    """The candidates of parsed resources; what cannot be read as an artifact is added to ``notes``."""
    out: list[Candidate] = []
    for r in resources:
        where = f"{r.location.file}:{r.location.line}" if r.location and r.location.line else (shown or r.id)
        found: list[str] = []
        for a in artifacts_of(r, ph, CHECKED_KINDS, found):
            out.append(Candidate(a, f"{where} {r.type} {r.id}"))
        if notes is not None:
            notes += [f"{where} {n}; not checked" for n in found]
    return out


# --------------------------------------------------------------------------- plans
# Every place a plan is read is checked for its shape: a wrong one is an InputError naming the file and the
# JSON path, never a crash (a plan comes from a CI job's workspace, and may be anything).


def _want_object(value: Json, where: str, shown: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(shown, f"{where} is {shape(value)}, expected an object")
    return value


def _want_list(value: Json, where: str, shown: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(shown, f"{where} is {shape(value)}, expected a list")
    return value


def _planned(root: Json, where: str, shown: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(JSON path, resource)`` of the module tree under ``root``, depth first (no recursion: a plan may
    nest modules arbitrarily deep)."""
    if root is None:
        return
    stack: list[tuple[Json, str]] = [(root, where)]
    while stack:
        module, at = stack.pop()
        mod = _want_object(module, at, shown)
        for n, res in enumerate(_want_list(mod.get("resources"), f"{at}.resources", shown)):
            yield f"{at}.resources[{n}]", _want_object(res, f"{at}.resources[{n}]", shown)
        children = _want_list(mod.get("child_modules"), f"{at}.child_modules", shown)
        stack.extend((c, f"{at}.child_modules[{n}]") for n, c in reversed(list(enumerate(children))))


def _module_calls(root: Json, where: str, shown: str) -> Iterator[tuple[str, str, str]]:
    """``(module path, source, version constraint)`` of every module call that pins a version."""
    if root is None:
        return
    stack: list[tuple[Json, str, str]] = [(root, where, "")]
    while stack:
        module, at, prefix = stack.pop()
        calls = _want_object(module, at, shown).get("module_calls")
        if calls is None:
            continue
        for name, call in reversed(list(_want_object(calls, f"{at}.module_calls", shown).items())):
            here = f"{at}.module_calls.{name}"
            call = _want_object(call, here, shown)
            path = f"{prefix}module.{name}"
            source, version = call.get("source"), call.get("version_constraint")
            if source is not None and not isinstance(source, str):
                raise InputError(shown, f"{here}.source is {shape(source)}, expected a string")
            if version is not None and not isinstance(version, str):
                raise InputError(shown, f"{here}.version_constraint is {shape(version)}, expected a string")
            if source and version:
                yield path, source, version
            if call.get("module") is not None:
                stack.append((call["module"], f"{here}.module", path + "."))


def _plan_resource(res: dict[str, Any], at: str, shown: str) -> Resource | None:
    """A managed resource of ``planned_values`` (None: a data source, never deployed)."""
    if res.get("mode", "managed") == "data":
        return None
    type_, address, values = res.get("type"), res.get("address"), res.get("values")
    if not isinstance(type_, str) or not type_:
        raise InputError(shown, f'{at} has no "type" (a string)')
    if address is not None and not isinstance(address, str):
        raise InputError(shown, f"{at}.address is {shape(address)}, expected a string")
    if values is not None and not isinstance(values, dict):
        raise InputError(shown, f"{at}.values is {shape(values)}, expected an object")
    name = address or at
    return Resource(type=type_, id=name, key=name, attributes=values or {})


def from_plan(data: Json, shown: str, ph: Placeholders, notes: list[str] | None = None) -> list[Candidate]:
    """Artifacts a ``terraform show -json`` plan is about to apply (``planned_values`` and ``configuration``).

    A plan of the wrong shape is an InputError naming ``shown`` and the place; resource values that hold no
    valid artifact (an image that is no valid reference) are added to ``notes``."""
    if not isinstance(data, dict):
        raise InputError(shown, f"is {shape(data)}, not `terraform show -json` output of a plan (an object)")
    if "planned_values" not in data:
        raise InputError(shown, "has no planned_values: not `terraform show -json` output of a plan")
    planned = _want_object(data["planned_values"], "planned_values", shown)
    resources: list[Resource] = []
    for at, res in _planned(planned.get("root_module"), "planned_values.root_module", shown):
        r = _plan_resource(res, at, shown)
        # Terraform resource types never hold a "/": what would (a Kubernetes kind, a config file) is no plan's
        if r is not None and "/" not in r.type:
            resources.append(r)
    out = from_resources(resources, ph, shown, notes)
    config = data.get("configuration")
    root = None if config is None else _want_object(config, "configuration", shown).get("root_module")
    for path, source, version in _module_calls(root, "configuration.root_module", shown):
        ident = f"{ph.sub_str(source)}@{version}"
        a = Artifact("module", f"input#{path}", f"{path}.version", ident, f"{source}@{version}")
        out.append(Candidate(a, f"{shown} {path}"))
    return out


def read_plan_file(path: Path, ph: Placeholders, notes: list[str] | None = None) -> list[Candidate]:
    """:func:`from_plan` of a file: unreadable, huge, binary or invalid JSON is an InputError naming it."""
    shown = str(path)
    return from_plan(load_json(path, shown), shown, ph, notes)


def check(
    ledger: Ledger,
    target: str,
    previous: str,
    candidates: Sequence[Candidate],
    findings: Sequence[Finding],
    notes: Sequence[str] = (),
) -> CheckResult:
    """Each candidate against ``previous``'s ledger, and ``previous``'s open high/critical drift; ``notes``:
    what the input held that could not be checked (kept in the result)."""
    result = CheckResult(target, previous, notes=list(notes))
    seen: set[tuple[str, str]] = set()
    for c in candidates:
        k = (c.artifact.kind, c.artifact.identity)
        if k in seen:
            continue
        seen.add(k)
        result.judged.append((c, ledger.observed(previous, c.artifact)))
    result.drift = [
        f
        for f in findings
        if previous in f.environments
        and target not in f.environments
        and f.status in OPEN_STATUSES
        and f.severity in BLOCKING_SEVERITIES
    ]
    return result
