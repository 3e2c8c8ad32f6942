"""Code vs live inside one environment: ``unmanaged``, ``missing``, ``changed`` and the coverage figure.

Declared resources (snapshots with role "declared") are matched to live ones (role "live") by
``(type, id)``, then by ``(type, key)``, 1:1 and unambiguous only. Then one live object declared
several times (two Terraform states managing one bucket, a state and a plan of it) is matched with each
of its declarations: what is left unmatched with an id that several declarations share and exactly one
live object has (copies of it from two live sources, same id and key, count once). Such an object is
managed, not unmanaged, and its declarations are not missing; each declaration that differs from it is
``changed``. Inputs are canonical snapshots.

- ``changed``: a pair whose values differ on the paths the declaration states. Live objects carry
  server-filled fields the code never mentions, so a mapping key present only on the live side is not
  compared ("what the code says" is the contract, as with ``kubectl diff``). Lists are compared whole
  (an extra live ingress rule or container is a change); elements matched by identity or position are
  projected the same way.
- ``missing``: declared, not live; only when the type is checkable live: some live snapshot listed
  it (``Coverage.listed``) or returned a resource of it, and no live snapshot has a coverage gap for it.
- ``unmanaged``: live, declared nowhere; not for children of a declared parent (TypeInfo.parent),
  nor for owners in :data:`NOT_USER_MANAGED` (AWS-managed objects, objects a Kubernetes controller
  created) nor :data:`MANAGED_ELSEWHERE` (CloudFormation
  stacks, Helm releases: code exists, in a tool parity was not pointed at).
- coverage figure: managed / live, where live counts live resources except :data:`NOT_USER_MANAGED`
  ones, and managed those that pair with a declaration or are :data:`MANAGED_ELSEWHERE`. None when the
  environment has no live source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from parity.compare.dedupe import tell_apart
from parity.compare.diff import diff, identity_field
from parity.compare.envinfo import covers, label, summarize_paths
from parity.compare.pairing import copy_order, match_unique, match_unique_keys
from parity.compare.severity import change_severity, severity
from parity.compare.types import Inventory, Rules
from parity.model import Change, CoverageGap, Finding, Json, Resource
from parity.normalize.noise import NoiseKB, default_kb
from parity.redact import is_redacted
from parity.registry import type_info

NOT_USER_MANAGED = ("aws-managed", "kubernetes")
MANAGED_ELSEWHERE = ("cloudformation", "helm")


@dataclass(frozen=True)
class CodeLiveResult:
    findings: tuple[Finding, ...]
    managed: int
    live: int
    coverage: float | None  # managed / live; None when there is no live source
    gaps: tuple[CoverageGap, ...]  # the live sources' coverage gaps (what could not be checked)
    unchecked_types: tuple[str, ...] = ()  # declared types no live source lists: no `missing` for them


def project(declared: Json, live: Json) -> Json:
    """``live`` cut down to the mapping keys ``declared`` states (lists stay whole; see module docstring)."""
    td, tl = type(declared), type(live)
    if td is dict and tl is dict:
        return {k: project(declared[k], live[k]) for k in declared if k in live}
    if td is list and tl is list:
        fd, fl = identity_field(declared), identity_field(live)
        if fd is not None and fd == fl:
            by_key = {x[fd]: x for x in declared}
            return [project(by_key[x[fd]], x) if x[fd] in by_key else x for x in live]
        return [project(declared[i], x) if i < len(declared) else x for i, x in enumerate(live)]
    return live


def _by_id(r: Resource) -> str:
    return f"{r.type}\x1f{r.id}"


def _by_native_id(r: Resource) -> str:
    """A declaration's id in the live object's terms, where its type says how (see TypeInfo.native_id)."""
    info = type_info(r.type)
    if info is not None and info.native_id is not None:
        native = info.native_id(r.attributes)
        if native:
            return f"{r.type}\x1f{native}"
    return _by_id(r)


def parent_ref(r: Resource) -> str | None:
    """The ``type\x1fid`` of the resource's parent, where its type declares one (TypeInfo.parent)."""
    info = type_info(r.type)
    if info is None or info.parent is None:
        return None
    parent_type, attr = info.parent
    parent_id = r.attributes.get(attr)
    return f"{parent_type}\x1f{parent_id}" if isinstance(parent_id, str) else None


def _parent_is_managed(r: Resource, paired_live_ids: set[str]) -> bool:
    ref = parent_ref(r)
    return ref is not None and ref in paired_live_ids


def _has_compared_set(type_: str) -> bool:
    info = type_info(type_)
    return info is not None and bool(info.compared)


def _unreadable_secrets(declared: dict[str, Json], live: dict[str, Json]) -> set[str]:
    """Hashed declared values the live listing could not read (a SecureString's value): not comparable."""
    return {k for k, v in declared.items() if k not in live and is_redacted(v)}


def _compared(type_: str, value: dict[str, Json]) -> dict[str, Json]:
    """Only the attributes the type declares comparable between code and live (all when it declares none)."""
    info = type_info(type_)
    if info is None or not info.compared:
        return value
    return {k: v for k, v in value.items() if k in info.compared}


def _by_key(r: Resource) -> str:
    return f"{r.type}\x1f{r.key}"


def _collapse_live(live: list[Resource]) -> list[Resource]:
    """``live`` with copies of one object (same type, id and key, from two live sources) reduced to one."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i, r in enumerate(live):
        groups.setdefault((r.type, r.id, r.key), []).append(i)
    keep = sorted(min(g, key=lambda i: copy_order(live[i])) for g in groups.values())
    return [live[i] for i in keep]


def _match_shared_ids(
    rest_d: list[Resource], rest_l: list[Resource], pairs: list[tuple[Resource, Resource]]
) -> tuple[list[Resource], list[Resource]]:
    """Pair each declaration with the one live object its id names, where several declarations made the
    id ambiguous; returns what is left per side."""
    if not rest_d or not rest_l:
        return rest_d, rest_l
    by_id_d: dict[str, list[Resource]] = {}
    for d in rest_d:
        by_id_d.setdefault(_by_native_id(d), []).append(d)
    by_id_l: dict[str, list[Resource]] = {}
    for lv in rest_l:
        k = _by_id(lv)
        if k in by_id_d:
            by_id_l.setdefault(k, []).append(lv)
    used: set[int] = set()
    for k in sorted(by_id_l):
        lives = by_id_l[k]
        if len(lives) != 1:
            continue  # two live objects with one id (two accounts): which one is declared is not known
        for d in by_id_d[k]:
            pairs.append((d, lives[0]))
            used.add(id(d))
        used.add(id(lives[0]))
    if not used:
        return rest_d, rest_l
    return [d for d in rest_d if id(d) not in used], [x for x in rest_l if id(x) not in used]


def _checkable_types(inv: Inventory) -> tuple[set[str], list[CoverageGap]]:
    live = [s for s in inv.snapshots if s.role == "live"]
    types: set[str] = set()
    gaps: list[CoverageGap] = []
    for s in live:
        types.update(s.coverage.listed)
        types.update(r.type for r in s.resources)
        gaps.extend(s.coverage.gaps)
    return {t for t in types if covers(live, t)}, gaps


def compare_code_live(inv: Inventory, rules: Rules, kb: NoiseKB | None = None) -> CodeLiveResult:
    """Declared vs live for one environment (see the module docstring). ``rules`` is accepted for
    symmetry with the other analyses (expectations apply between environments, not here)."""
    del rules
    kb = kb or default_kb()
    env = inv.environment
    declared = list(inv.resources("declared"))
    live_all = list(inv.resources("live"))
    has_live = any(s.role == "live" for s in inv.snapshots)
    live_ids = [_by_id(r) for r in live_all]
    if len(set(live_ids)) != len(live_ids):  # one object from two live sources: counted and judged once
        live_all = _collapse_live(live_all)
        live_ids = [_by_id(r) for r in live_all]
    pairs: list[tuple[Resource, Resource]] = []
    rest_d, rest_l = match_unique_keys(declared, live_all, [_by_native_id(d) for d in declared], live_ids, pairs)
    rest_d, rest_l = match_unique(rest_d, rest_l, _by_key, _by_key, pairs)
    rest_d, rest_l = _match_shared_ids(rest_d, rest_l, pairs)

    findings: list[Finding] = []
    # (type, key, live id) -> declaration, live object, changes: two declarations of one object at one
    # address (a state and a plan of it) give one finding with the changes of both
    changed: dict[tuple[str, str, str], tuple[list[Resource], Resource, dict[tuple[str, str, str], Change]]] = {}
    for d, lv in pairs:
        dv: Mapping[str, Json] = d.attributes
        dval: dict[str, Json] = dict(dv)
        lval: dict[str, Json] = dict(lv.attributes)
        if d.tags:
            dval.setdefault("tags", dict(d.tags))
            if lv.tags:
                lval.setdefault("tags", dict(lv.tags))
        if _has_compared_set(d.type):
            # A curated set (AWS types) is compared whole: a tag added by hand is drift too.
            skip = _unreadable_secrets(dval, lval)
            dcmp = {k: v for k, v in _compared(d.type, dval).items() if k not in skip}
            changes = diff(dcmp, _compared(d.type, lval), kb.for_type(d.type).canonical)
        else:
            changes = diff(dval, project(dval, lval), kb.for_type(d.type).canonical)
        if not changes:
            continue
        slot = changed.setdefault((d.type, d.key, lv.id), ([], lv, {}))
        slot[0].append(d)
        for c in changes:
            slot[2].setdefault((c.path, repr(c.left), repr(c.right)), c)
    for ds, lv, by_change in changed.values():
        d = ds[0]
        changes = list(by_change.values())
        if len(ds) > 1:  # in an order that does not depend on which declaration was read first
            d = min(ds, key=copy_order)
            changes = [by_change[k] for k in sorted(by_change)]
        findings.append(
            Finding(
                kind="changed",
                severity=change_severity("changed", d.type, changes),
                type=d.type,
                key=d.key,
                environments=(env,),
                resources={env: lv.id},
                message=f"{d.type} {label(d)} in {env} differs from its declaration"
                f"{f' in {d.origin}' if d.origin else ''}: {summarize_paths([c.path for c in changes])}",
                changes=tuple(changes),
                location=d.location,
            )
        )

    checkable, gaps = _checkable_types(inv) if has_live else (set(), [])
    unchecked: set[str] = set()
    if has_live:
        for d in rest_d:
            if d.type not in checkable:
                unchecked.add(d.type)
                continue
            findings.append(
                Finding(
                    kind="missing",
                    severity=severity("missing"),
                    type=d.type,
                    key=d.key,
                    environments=(env,),
                    resources={env: d.id},
                    message=f"{d.type} {label(d)} is declared{f' in {d.origin}' if d.origin else ''} "
                    f"but not live in {env}",
                    location=d.location,
                )
            )
    paired_live_ids = {_by_id(lv) for _, lv in pairs}
    unmanaged_ids = {_by_id(lv) for lv in rest_l}
    for lv in rest_l:
        if lv.owner in NOT_USER_MANAGED or lv.owner in MANAGED_ELSEWHERE:
            continue
        if _parent_is_managed(lv, paired_live_ids):
            continue
        if parent_ref(lv) in unmanaged_ids:
            continue  # reported once, through its parent
        findings.append(
            Finding(
                kind="unmanaged",
                severity=severity("unmanaged"),
                type=lv.type,
                key=lv.key,
                environments=(env,),
                resources={env: lv.id},
                message=f"{lv.type} {label(lv)} is live in {env} but declared nowhere",
            )
        )

    paired_live = {id(lv) for _, lv in pairs}
    # children of declared parents count as managed too
    paired_live |= {id(lv) for lv in rest_l if _parent_is_managed(lv, paired_live_ids)}
    counted = [r for r in live_all if r.owner not in NOT_USER_MANAGED]
    managed = sum(1 for r in counted if id(r) in paired_live or r.owner in MANAGED_ELSEWHERE)
    coverage = (managed / len(counted) if counted else 1.0) if has_live else None
    findings = tell_apart(findings)
    findings.sort(key=lambda f: (f.kind, f.type, f.key, f.detail))
    return CodeLiveResult(
        findings=tuple(findings),
        managed=managed,
        live=len(counted),
        coverage=coverage,
        gaps=tuple(gaps),
        unchecked_types=tuple(sorted(unchecked)),
    )
