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

import orjson

from parity.errors import InputError
from parity.model import Finding, Json, Resource
from parity.normalize.placeholders import Placeholders
from parity.promotion.artifacts import Artifact, artifacts_of, parse_image
from parity.promotion.ledger import Ledger, Sighting

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
    target: str
    previous: str
    judged: list[tuple[Candidate, Sighting | None]] = field(default_factory=list)
    drift: list[Finding] = field(default_factory=list)

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
    def exit_code(self) -> int:
        return 2 if self.reasons else 0


def images_from_lines(text: str, shown: str, ph: Placeholders) -> list[Candidate]:
    """One image reference per line; blank lines and ``#`` comments skipped."""
    out: list[Candidate] = []
    for n, line in enumerate(text.splitlines(), 1):
        ref = line.split("#", 1)[0].strip()  # "#" never occurs in an image reference
        if not ref:
            continue
        img = parse_image(ref, ph)
        if img is None:
            raise InputError(shown, f"{ref!r} is not an image reference (registry/repository:tag[@digest])", n)
        out.append(Candidate(Artifact("image", f"input#{n}", "image", img.identity, ref, img), f"{shown}:{n}"))
    return out


def from_resources(resources: Sequence[Resource], ph: Placeholders, shown: str) -> list[Candidate]:
    out: list[Candidate] = []
    for r in resources:
        where = f"{r.location.file}:{r.location.line}" if r.location and r.location.line else (shown or r.id)
        for a in artifacts_of(r, ph, CHECKED_KINDS):
            out.append(Candidate(a, f"{where} {r.type} {r.id}"))
    return out


def _planned(module: Json) -> Iterator[dict[str, Any]]:
    if not isinstance(module, dict):
        return
    for res in module.get("resources") or []:
        if isinstance(res, dict):
            yield res
    for child in module.get("child_modules") or []:
        yield from _planned(child)


def _module_calls(module: Json, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    if not isinstance(module, dict):
        return
    for name, call in (module.get("module_calls") or {}).items():
        if not isinstance(call, dict):
            continue
        path = f"{prefix}module.{name}"
        if isinstance(call.get("source"), str) and call.get("version_constraint"):
            yield path, call["source"], str(call["version_constraint"])
        yield from _module_calls(call.get("module"), path + ".")


def from_plan(data: Json, shown: str, ph: Placeholders) -> list[Candidate]:
    """Artifacts a ``terraform show -json`` plan is about to apply (``planned_values`` and ``configuration``)."""
    if not isinstance(data, dict) or "planned_values" not in data:
        raise InputError(shown, "has no planned_values: not `terraform show -json` output of a plan")
    resources = [
        Resource(
            type=str(res.get("type", "")),
            id=str(res.get("address", "")),
            key=str(res.get("address", "")),
            attributes=res.get("values") or {},
        )
        for res in _planned(data["planned_values"].get("root_module"))
    ]
    out = from_resources(resources, ph, shown)
    root = (data.get("configuration") or {}).get("root_module")
    for path, source, version in _module_calls(root):
        ident = f"{ph.sub_str(source)}@{version}"
        a = Artifact("module", f"input#{path}", f"{path}.version", ident, f"{source}@{version}")
        out.append(Candidate(a, f"{shown} {path}"))
    return out


def read_plan_file(path: Path, ph: Placeholders) -> list[Candidate]:
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as e:
        raise InputError(str(path), f"cannot read: {e.strerror}") from None
    except orjson.JSONDecodeError as e:
        raise InputError(str(path), f"invalid JSON: {e}") from None
    return from_plan(data, str(path), ph)


def check(
    ledger: Ledger, target: str, previous: str, candidates: Sequence[Candidate], findings: Sequence[Finding]
) -> CheckResult:
    """Each candidate against ``previous``'s ledger, and ``previous``'s open high/critical drift."""
    result = CheckResult(target, previous)
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
