"""The ``terraform-plan`` source: ``terraform show -json PLANFILE`` output as a declared and a live snapshot.

A plan already holds both sides of drift, compared by the providers themselves: ``prior_state`` is the
state as the refresh saw the real objects, and each ``resource_drift`` entry's ``change.before`` is what
the state said before that refresh. So this source returns two snapshots:

- role ``declared`` (source ``<name>``): the prior state with every drifted address put back to its
  ``change.before``; a drift entry whose ``before`` exists but whose object is gone (``actions: ["delete"]``)
  is declared and absent from live;
- role ``live`` (source ``<name>:refreshed``): the prior state as refreshed.

Comparing the two finds ``changed`` for exactly the drifted attributes and ``missing`` for the deleted
objects without parity knowing any provider schema. A plan without ``prior_state`` (an empty state, or
output of an older Terraform) gives only the declared snapshot, read from ``planned_values``.

Deposed objects (``deposed_key`` in a values block, ``deposed`` in a drift entry) are skipped, as the
state reader skips them: they share the current object's address, and Terraform destroys them itself.

Resource fields, redaction and keys follow :mod:`parity.sources.terraform.common`; ``sensitive_values``
(and a drift entry's ``before_sensitive``) mark what Terraform itself considers sensitive. The same
instance serves both snapshots where nothing drifted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from parity.config import TerraformPlanSource
from parity.errors import InputError, type_word
from parity.gcpause import paused_gc
from parity.model import Coverage, CoverageGap, Json, Snapshot
from parity.redact import Redactor, redact_secret_keys_in_place
from parity.registry import CollectContext, register_source
from parity.sources import files
from parity.sources.terraform.common import (
    TOO_DEEP_TO_HASH,
    Instance,
    ShapeError,
    assign_keys,
    format_index,
    load_json,
    make_instance,
    redact_declared_secret_paths,
    redact_sensitive_mirror,
    to_resource,
)

KIND = "terraform-plan"
SUFFIXES = (".json",)  # what a folder given as the path is searched for (parity.parallel sizes them too)
LIVE_SUFFIX = ":refreshed"


@dataclass(slots=True)
class PlanRead:
    """One plan file: its declared instances and, when it has a prior_state, its refreshed ones."""

    shown: str
    declared: list[Instance]
    live: list[Instance] | None


@register_source(KIND, "`terraform show -json` plan output: declared state and, from a refresh, live state")
def collect_plan(spec: TerraformPlanSource, ctx: CollectContext) -> Sequence[Snapshot]:
    reads: list[PlanRead] = []
    with paused_gc():
        for path, _root in files.expand(ctx.base_dir, spec.path, SUFFIXES):
            shown = files.display(path, ctx.base_dir)
            ctx.report(f"reading {shown}")
            reads.append(read_plan(load_json(path, shown), shown, ctx.redactor))
    # One key per address across both snapshots, so a resource deleted in one file keeps its key.
    keys = assign_keys((r.shown, {i.address for i in r.declared} | {i.address for i in r.live or ()}) for r in reads)
    now = datetime.now(UTC)
    listed = tuple(r.shown for r in reads)
    declared = Snapshot(
        environment=ctx.environment,
        source=ctx.source_name,
        kind=KIND,
        role="declared",
        collected_at=now,
        resources=tuple(to_resource(i, keys[(r.shown, i.address)], KIND) for r in reads for i in r.declared),
        coverage=Coverage(listed=listed),
    )
    if all(r.live is None for r in reads):
        return [declared]
    gaps = tuple(
        CoverageGap(scope=r.shown, reason="the plan has no prior_state: nothing was refreshed", kind="unsupported")
        for r in reads
        if r.live is None
    )
    live = Snapshot(
        environment=ctx.environment,
        source=ctx.source_name + LIVE_SUFFIX,
        kind=KIND,
        role="live",
        collected_at=now,
        resources=tuple(to_resource(i, keys[(r.shown, i.address)], KIND) for r in reads for i in r.live or ()),
        coverage=Coverage(listed=tuple(r.shown for r in reads if r.live is not None), gaps=gaps),
    )
    return [declared, live]


def read_plan(data: Json, shown: str, redactor: Redactor) -> PlanRead:
    """Declared and refreshed instances of one parsed plan JSON, secrets redacted."""
    _check_header(data, shown)
    prior = data.get("prior_state")
    if prior is None:
        planned = data.get("planned_values")
        if planned is None:
            raise InputError(shown, "has neither prior_state nor planned_values: not plan output")
        return PlanRead(shown, _read_values(planned, "planned_values", shown, redactor), None)
    live = _read_values(_section(prior, "prior_state", shown).get("values"), "prior_state.values", shown, redactor)
    declared = _apply_drift(live, data.get("resource_drift"), shown, redactor)
    return PlanRead(shown, declared, live)


def _check_header(data: Json, shown: str) -> None:
    if not isinstance(data, dict) or "format_version" not in data:
        hint = ""
        if isinstance(data, dict) and "version" in data and "resources" in data:
            hint = " (it looks like a state file: use kind terraform-state)"
        raise InputError(shown, f"is not `terraform show -json` plan output: it has no format_version{hint}")
    fv = data["format_version"]
    if not isinstance(fv, str) or fv.split(".")[0] != "1":
        what = repr(fv) if isinstance(fv, str) else type_word(fv)
        raise InputError(shown, f"unsupported plan format_version {what} (parity reads 1.x, Terraform 0.12 and later)")


def _section(value: Json, name: str, shown: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(shown, f"{name} is {type_word(value)}, expected an object")
    return value


def _modules(values: dict[str, Any], name: str, shown: str) -> Iterator[tuple[str, list[Any]]]:
    """``(where, resources)`` of the root module and every child module, depth first, in file order."""
    root = values.get("root_module")
    if root is None:
        return
    stack: list[tuple[Json, str]] = [(root, f"{name}.root_module")]
    while stack:
        mod, where = stack.pop()
        if not isinstance(mod, dict):
            raise InputError(shown, f"{where} is {type_word(mod)}, expected an object")
        resources = mod.get("resources", [])
        children = mod.get("child_modules", [])
        if not isinstance(resources, list):
            raise InputError(shown, f"{where}.resources is {type_word(resources)}, expected a list")
        if not isinstance(children, list):
            raise InputError(shown, f"{where}.child_modules is {type_word(children)}, expected a list")
        yield where, resources
        label = mod.get("address") if isinstance(mod.get("address"), str) else where
        stack.extend((c, f"{label}.child_modules[{n}]") for n, c in reversed(list(enumerate(children))))


def _read_values(values: Json, name: str, shown: str, redactor: Redactor) -> list[Instance]:
    """The managed instances of a ``values`` block (``planned_values`` or ``prior_state.values``)."""
    if values is None:  # Terraform leaves it out when the state is empty
        return []
    out: list[Instance] = []
    seen: set[str] = set()
    for where, resources in _modules(_section(values, name, shown), name, shown):
        for n, res in enumerate(resources):
            at = f"{where}.resources[{n}]"
            try:
                if not isinstance(res, dict):
                    raise ShapeError(f"is {type_word(res)}, expected an object")
                head = _head(res)
                if head is None or res.get("deposed_key"):
                    continue  # a data source, or a deposed object (as the state reader: about to be destroyed)
                at = head[0]
                if at in seen:
                    raise ShapeError("the address appears twice")
                seen.add(at)
                out.append(_instance(head, res.get("values"), res.get("sensitive_values"), redactor, shown))
            except ShapeError as e:
                raise InputError(shown, f"{name}: resource {at}: {e}") from None
    return out


def _head(res: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(address, type, name)`` of a managed resource; None for a data source."""
    mode = res.get("mode", "managed")
    if mode == "data":
        return None
    if mode != "managed":
        raise ShapeError('mode is neither "managed" nor "data"')
    address, type_, name = res.get("address"), res.get("type"), res.get("name")
    if not isinstance(type_, str) or not type_:
        raise ShapeError('has no "type"')
    if not isinstance(name, str) or not name:
        raise ShapeError('has no "name"')
    if not isinstance(address, str) or not address:
        # Terraform always writes the address; rebuild it rather than give up when a tool dropped it.
        module = res.get("module_address")
        prefix = f"{module}." if isinstance(module, str) and module else ""
        address = f"{prefix}{type_}.{name}{format_index(res.get('index'))}"
    return address, type_, name


def _instance(head: tuple[str, str, str], values: Json, sensitive: Json, redactor: Redactor, shown: str) -> Instance:
    address, type_, name = head
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ShapeError(f"values are {type_word(values)}, expected an object")
    if sensitive is not None and sensitive is not False:
        redact_sensitive_mirror(values, sensitive, redactor)
    try:
        redact_secret_keys_in_place(values, redactor)
    except orjson.JSONEncodeError:
        raise ShapeError(TOO_DEEP_TO_HASH) from None
    values = redact_declared_secret_paths(type_, values, redactor)
    return make_instance(address, type_, name, values, shown)


def _apply_drift(live: list[Instance], drift: Json, shown: str, redactor: Redactor) -> list[Instance]:
    """The declared side: ``live`` with each drifted address put back to what the state said before."""
    if drift is None:
        return list(live)
    if not isinstance(drift, list):
        raise InputError(shown, f"resource_drift is {type_word(drift)}, expected a list")
    before: dict[str, Instance | None] = {}
    for n, entry in enumerate(drift):
        at = f"resource_drift[{n}]"
        try:
            if not isinstance(entry, dict):
                raise ShapeError(f"is {type_word(entry)}, expected an object")
            head = _head(entry)
            if head is None or entry.get("deposed"):
                continue  # a deposed object drifted: it shares the current object's address and is skipped
            at = head[0]
            if at in before:
                raise ShapeError("the address appears twice")
            change = entry.get("change")
            if not isinstance(change, dict):
                raise ShapeError(f"change is {type_word(change)}, expected an object")
            old = change.get("before")
            before[at] = None if old is None else _instance(head, old, change.get("before_sensitive"), redactor, shown)
        except ShapeError as e:
            raise InputError(shown, f"resource_drift: resource {at}: {e}") from None
    out: list[Instance] = []
    for inst in live:
        if inst.address in before:
            old_inst = before.pop(inst.address)
            if old_inst is not None:
                out.append(old_inst)
        else:
            out.append(inst)
    # What remains drifted away entirely: deleted outside Terraform, declared but no longer live.
    out.extend(i for i in before.values() if i is not None)
    return out
