"""Environment vs environment: ``only_in`` and ``differs`` between two mirrors.

What is compared: like with like, per resource type (:func:`parity.compare.envinfo.like_with_like`):
live with live where a live source of each side looked at the type, else declared with declared, else
each side's everything. Types that are an alternative representation of another's content
(``TypeInfo.alternative_of``) are left out, and an unpaired child whose parent is unpaired too is
reported through the parent.
Inputs are canonical snapshots (:func:`parity.normalize.canonicalize` has been applied, as it is
before anything is stored).

Steps: pair (:mod:`parity.compare.pairing`) -> for every pair, the comparable values (canonical
attributes without the KB's instance-specific paths, plus ``tags`` when the attributes hold none) are
told equal or not after each side's placeholders: walked together (:mod:`parity.compare.equal`, where
the compiled part is built), else serialised with each side's placeholders applied to the whole batch of
bytes, one regex pass per kind, equal bytes meaning equal resources. Only the pairs that may differ are
checked with sorted keys, decoded and walked by :func:`parity.compare.diff.diff`. A
:class:`~parity.compare.memo.ComparisonMemo` kept between comparisons substitutes only content it has
not seen before. Changes matched by an ``expected`` rule are
moved to ``Finding.suppressed`` (rule ``expected``); a pair whose every change is expected yields no
finding, and :class:`MirrorResult.expected` lists all expected differences for the report.

One Kubernetes object whose type differs between the sides only in the API version (staging's
manifests moved a PodDisruptionBudget to ``policy/v1``, production's still declare ``policy/v1beta1``)
is paired by the last pass (:func:`parity.compare.pairing.pair_api_versions`) and is one ``differs``:
a change at :data:`API_VERSION_PATH` (``apiVersion``, ``policy/v1`` vs ``policy/v1beta1``), first, then
whatever its attributes differ in; never two ``only_in``. Like every ``differs``, its type and key (so
its id) are the left side's, stable while neither side's version moves; ``expected`` rules match it by
either side's type and key. Both sides are compared after the noise KB rules of both versions (the KB names
versions: ``batch/v1/CronJob``'s defaults), and a version on one side only takes its role (live or declared)
from its group and kind, as if both versions were one type.

An unpaired resource is ``only_in`` unless its type is not fully covered on either side: a failed or
denied listing is a coverage gap, never "deleted".

Change values are shown after placeholders (``arn:aws:iam::{account}:role/shop-{env}``): that is the
form in which the two sides were found to differ.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import orjson

from parity.compare.codelive import parent_ref
from parity.compare.dedupe import tell_apart
from parity.compare.diff import diff
from parity.compare.envinfo import (
    covers,
    label,
    like_with_like,
    placeholders_for,
    select,
    summarize_paths,
)
from parity.compare.equal import Drops, unsure_pairs
from parity.compare.memo import ComparisonMemo
from parity.compare.pairing import api_version, kube_group_kind, pair_resources
from parity.compare.severity import change_severity, only_in_severity
from parity.compare.types import Inventory, Rules
from parity.config import Expected
from parity.gcpause import paused_gc
from parity.globs import rule_matches
from parity.model import Change, Finding, Json, Resource, Suppressed
from parity.normalize.canonical import canonical_attributes, with_attributes
from parity.normalize.native import compiled
from parity.normalize.noise import NoiseKB, RuleNode, default_kb
from parity.normalize.placeholders import Placeholders
from parity.normalize.strip import flat_drops, strip
from parity.registry import type_info

# The path of the difference between one Kubernetes object's two API versions (``policy/v1beta1`` in one
# environment, ``policy/v1`` in the other): the manifest field that differs; ``expected`` and ``ignore``
# rules name it like any path.
API_VERSION_PATH = "apiVersion"


@dataclass(frozen=True)
class ExpectedDifference:
    """A difference between mirrors that an ``expected`` rule declares intended."""

    type: str
    key: str
    environments: tuple[str, str]
    resources: Mapping[str, str]
    change: Change
    reason: str


@dataclass(frozen=True)
class MirrorResult:
    findings: tuple[Finding, ...]
    expected: tuple[ExpectedDifference, ...]
    role: str | None  # "live", "declared", "mixed" (per type) or None (everything), see like_with_like
    pairs: int
    uncovered_types: tuple[str, ...]  # types whose unpaired resources were not reported (coverage gap)
    expected_used: frozenset[int] = frozenset()  # indices of Rules.expected that matched some difference


def comparable(r: Resource, kb: NoiseKB) -> dict[str, Json]:
    """What is compared between mirrors: attributes minus instance-specific paths, plus tags."""
    attrs: dict[str, Json] = r.attributes if type(r.attributes) is dict else dict(r.attributes)
    inst = kb.for_type(r.type).instance
    if inst is not None:
        attrs = strip(attrs, inst)
    if r.tags and "tags" not in attrs:
        attrs = {**attrs, "tags": dict(r.tags)}
    return attrs


class _InstanceRules(dict[str, tuple[RuleNode | None, frozenset[str] | None]]):
    """type -> its instance rules and, when they only drop top-level keys, those keys; looked up once."""

    def __init__(self, kb: NoiseKB) -> None:
        super().__init__()
        self.kb = kb

    def __missing__(self, t: str) -> tuple[RuleNode | None, frozenset[str] | None]:
        inst = self.kb.for_type(t).instance
        got = self[t] = inst, (flat_drops(inst) if inst is not None else None)
        return got


def _comparables(resources: list[Resource], kb: NoiseKB) -> list[dict[str, Json]]:
    """``[comparable(r, kb) for r in resources]``, with each type's rules looked up once."""
    insts = _InstanceRules(kb)
    out: list[dict[str, Json]] = []
    append = out.append
    for r in resources:
        attrs: dict[str, Json] = r.attributes if type(r.attributes) is dict else dict(r.attributes)
        inst, drops = insts[r.type]
        if drops is not None:  # the usual rules: a few top-level keys (strip's own fast path, inline)
            if not drops.isdisjoint(attrs):
                attrs = attrs.copy()
                for k in drops:
                    attrs.pop(k, None)
        elif inst is not None:
            attrs = strip(attrs, inst)
        if r.tags and "tags" not in attrs:
            attrs = {**attrs, "tags": dict(r.tags)}
        append(attrs)
    return out


def _comparable_parts(resources: list[Resource], kb: NoiseKB) -> tuple[list[dict[str, Json]], list[Drops]]:
    """What :func:`_comparables` gives, as values and the top-level keys to leave out of each (the usual
    instance rules drop a few top-level keys; the paired walk skips them instead of a copy being made)."""
    insts = _InstanceRules(kb)
    values: list[dict[str, Json]] = []
    drops: list[Drops] = []
    for r in resources:
        attrs: dict[str, Json] = r.attributes if type(r.attributes) is dict else dict(r.attributes)
        inst, flat = insts[r.type]
        if (inst is not None and flat is None) or (r.tags and ("tags" not in attrs or (flat and "tags" in flat))):
            attrs, flat = comparable(r, kb), None  # deeper rules, or tags added: the value itself
        values.append(attrs)
        drops.append(flat)
    return values, drops


def _decode(raw: bytes, ph: Placeholders, value: dict[str, Json]) -> Json:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:  # a substitution broke the JSON (an odd token): walk instead
        return ph.apply(value)


def _unequal_pairs(
    pairs: Sequence[tuple[Resource, Resource]],
    ph_l: Placeholders,
    ph_r: Placeholders,
    kb: NoiseKB,
    memo: ComparisonMemo | None,
) -> Iterator[tuple[int, Json, Json]]:
    """``(index, left value, right value)`` of the pairs whose comparable values differ after placeholders.

    First, the pairs that may differ: where the compiled part is built, the paired walk of
    :mod:`parity.compare.equal` (the values walked together, only strings that matter substituted, the
    instance-specific top-level keys skipped rather than copied away); else the values serialised in the
    order their keys have (sorting every mapping's keys costs more than the rest of the serialisation) and
    substituted, equal bytes being equal values; with a ``memo``, each side's substituted bytes known by
    digest, only unseen content substituted. Then the exact test on those: sorted-key bytes after
    placeholders (the same content in another key order is equal); only pairs still unequal are decoded
    and returned.
    """
    lefts = [a for a, _ in pairs]
    rights = [b for _, b in pairs]
    if memo is None and compiled() is not None:  # the paired walk (parity.compare.equal), compiled
        (vals_l, drops_l), (vals_r, drops_r) = _comparable_parts(lefts, kb), _comparable_parts(rights, kb)
        unequal = unsure_pairs(vals_l, vals_r, ph_l, ph_r, drops_l, drops_r)
        vals_l = _comparables([lefts[i] for i in unequal], kb)
        vals_r = _comparables([rights[i] for i in unequal], kb)
    elif memo is None:  # in Python, serialising and substituting everything costs less than walking
        vals_l = _comparables(lefts, kb)
        vals_r = _comparables(rights, kb)
        subs_l = ph_l.sub_records(vals_l, sort_keys=False)
        subs_r = ph_r.sub_records(vals_r, sort_keys=False)
        unequal = [i for i in range(len(pairs)) if subs_l[i] != subs_r[i]]
        vals_l = [vals_l[i] for i in unequal]
        vals_r = [vals_r[i] for i in unequal]
    else:
        dig_l = memo.resource_digests(ph_l, lefts, lambda rs: _comparables(rs, kb))
        dig_r = memo.resource_digests(ph_r, rights, lambda rs: _comparables(rs, kb))
        unequal = [i for i in range(len(pairs)) if dig_l[i] != dig_r[i]]
        vals_l = _comparables([lefts[i] for i in unequal], kb)
        vals_r = _comparables([rights[i] for i in unequal], kb)
    if not unequal:
        return
    sorted_l = ph_l.sub_records(vals_l)
    sorted_r = ph_r.sub_records(vals_r)
    for n, i in enumerate(unequal):
        if sorted_l[n] != sorted_r[n]:
            yield i, _decode(sorted_l[n], ph_l, vals_l[n]), _decode(sorted_r[n], ph_r, vals_r[n])


_CK = tuple[bytes, bytes, bytes]


def _change_key(c: Change) -> _CK:
    """A change as bytes (its values may be lists and mappings): equal changes of two copies are one."""
    try:
        return (c.path.encode(), orjson.dumps(c.left, option=_KEY_OPTS), orjson.dumps(c.right, option=_KEY_OPTS))
    except TypeError:  # what orjson cannot write (an integer past 64 bits)
        return (c.path.encode(), repr(c.left).encode(), repr(c.right).encode())


_KEY_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _expects(e: Expected, a: Resource, b: Resource, path: str, envs: tuple[str, str]) -> bool:
    """Whether ``expected`` rule ``e`` covers a change at ``path`` of the pair (either side's type and key)."""
    return rule_matches(e.type, e.key, e.path, e.environments, a.type, a.key, path, envs) or rule_matches(
        e.type, e.key, e.path, e.environments, b.type, b.key, path, envs
    )


def _alternative(type_: str) -> bool:
    info = type_info(type_)
    return info is not None and info.alternative_of is not None


def _roles_across_versions(left: Inventory, right: Inventory, roles: dict[str, str | None]) -> dict[str, str | None]:
    """``roles`` with each Kubernetes type that got none given its group and kind's: "live" where a live source
    of each side looked at some version of it, else "declared" where each side declares some version of it.
    A type whose version differs between the sides is on one side only, so per type it had no role: where each
    side has a cluster and manifests, every live copy was compared with every declared copy of the other
    version, and what the server fills in read as differences both ways."""
    open_ = {t: gk for t, role in roles.items() if role is None and (gk := kube_group_kind(t)) is not None}
    if not open_:
        return roles
    wanted = set(open_.values())

    def seen(inv: Inventory, role: str) -> set[str]:
        """The group/kinds of ``wanted`` that sources of ``inv`` with ``role`` looked at."""
        types: set[str] = set()
        for s in inv.snapshots:
            if s.role == role:
                types.update(r.type for r in s.resources)
                if role == "live":
                    types.update(s.coverage.listed)
        return {gk for t in types if (gk := kube_group_kind(t)) in wanted}

    live = seen(left, "live") & seen(right, "live")
    declared = seen(left, "declared") & seen(right, "declared")
    out = dict(roles)
    for t, gk in open_.items():
        out[t] = "live" if gk in live else ("declared" if gk in declared else None)
    return out


def _aligned(a: Resource, b: Resource, kb: NoiseKB) -> tuple[Resource, Resource]:
    """A pair across two API versions of a type, each side made canonical under both versions' rules (in one
    order for both). The KB names versions (``batch/v1/CronJob``'s defaults, ``apps/v1/Deployment``'s
    unordered env): a default folded on one side only, or a list sorted on one side only, read as a change."""
    first, second = sorted((a.type, b.type))

    def both(r: Resource) -> Resource:
        return with_attributes(r, canonical_attributes(second, canonical_attributes(first, r.attributes, kb), kb))

    return both(a), both(b)


def mirror_report(
    left: Inventory,
    right: Inventory,
    rules: Rules,
    kb: NoiseKB | None = None,
    memo: ComparisonMemo | None = None,
) -> MirrorResult:
    """Compare two mirrors; see the module docstring. A ``memo`` kept between calls (``parity watch``)
    spares re-substituting content that an earlier comparison already saw."""
    with paused_gc():
        return _mirror_report(left, right, rules, kb, memo)


def _mirror_report(
    left: Inventory, right: Inventory, rules: Rules, kb: NoiseKB | None, memo: ComparisonMemo | None
) -> MirrorResult:
    kb = kb or default_kb()
    L, R = left.environment, right.environment
    envs = (L, R)
    roles = _roles_across_versions(left, right, like_with_like(left, right))
    chosen = set(roles.values())
    role = chosen.pop() if len(chosen) == 1 else ("mixed" if chosen else None)
    res_l, snaps_l = select(left, roles)
    res_r, snaps_r = select(right, roles)
    # Alternative representations of what another type already carries (a security group's rules as
    # separate resources): between two environments they would repeat the parent's differences.
    alternatives = {t for t in roles if _alternative(t)}  # roles holds every type of either side
    if alternatives:
        res_l = [r for r in res_l if r.type not in alternatives]
        res_r = [r for r in res_r if r.type not in alternatives]
    ph_l = placeholders_for(left, rules, (right,))
    ph_r = placeholders_for(right, rules, (left,))
    pairing = pair_resources(res_l, res_r, ph_l, ph_r, rules.pair_tags, api_versions=True)

    pairs = pairing.pairs
    if pairing.copies:  # an object seen twice on a side: each copy is compared with the partner(s)
        pairs = tuple((x, y) for a, b in pairs for x in pairing.with_copies(a) for y in pairing.with_copies(b))
    if pairing.across_versions:
        pairs = tuple((a, b) if a.type == b.type else _aligned(a, b, kb) for a, b in pairs)
    findings: list[Finding] = []
    expected_all: dict[tuple[str, ...], ExpectedDifference] = {}
    # (type, key, left id, right id) -> the pair, its kept changes, its suppressed ones: copies of one object
    # give one finding, with the changes of every copy
    found: dict[tuple[str, str, str, str], tuple[Resource, Resource, dict[_CK, Change], dict[_CK, Suppressed]]] = {}
    expected_rules = list(rules.expected)
    used_rules: set[int] = set()

    def note(a: Resource, b: Resource, changes: list[Change]) -> None:
        """Record the changes of pair ``(a, b)``, each kept or suppressed by the first expected rule covering it."""
        slot = found.get((a.type, a.key, a.id, b.id))
        if slot is None:
            slot = found[(a.type, a.key, a.id, b.id)] = (a, b, {}, {})
        _, _, kept, supp = slot
        resources = {L: a.id, R: b.id}
        for c in changes:
            ck = _change_key(c)
            n = next((n for n, e in enumerate(expected_rules) if _expects(e, a, b, c.path, envs)), None)
            if n is None:
                kept.setdefault(ck, c)
            else:
                used_rules.add(n)
                reason = expected_rules[n].reason
                supp.setdefault(ck, Suppressed(rule="expected", reason=reason, change=c))
                expected_all.setdefault(
                    (a.type, a.key, a.id, b.id, *map(bytes.decode, ck)),
                    ExpectedDifference(a.type, a.key, envs, resources, c, reason),
                )

    # One Kubernetes object under two API versions of its type: the version is a difference of its own,
    # listed first, whether or not the attributes differ too.
    for x, y in pairing.across_versions:
        for a in pairing.with_copies(x):
            for b in pairing.with_copies(y):
                note(a, b, [Change(API_VERSION_PATH, api_version(a.type), api_version(b.type))])
    for i, lv, rv in _unequal_pairs(pairs, ph_l, ph_r, kb, memo):
        a, b = pairs[i]
        rules_ = kb.for_type(a.type).canonical
        if rules_ is None and b.type != a.type:  # (across API versions: the lists either version sorts)
            rules_ = kb.for_type(b.type).canonical
        changes = diff(lv, rv, rules_)
        if changes:
            note(a, b, changes)
    for a, b, kept_d, supp_d in found.values():
        if not kept_d:
            continue
        kept_l = list(kept_d.values())
        other = f" ({b.type} in {R})" if b.type != a.type else ""
        findings.append(
            Finding(
                kind="differs",
                severity=change_severity("differs", a.type, kept_l),
                type=a.type,
                key=a.key,
                environments=envs,
                resources={L: a.id, R: b.id},
                message=f"{a.type} {label(a)} differs between {L} and {R}{other}: "
                f"{summarize_paths([c.path for c in kept_l])}",
                changes=tuple(kept_l),
                suppressed=tuple(supp_d.values()),
                location=a.location or b.location,
            )
        )

    uncovered: set[str] = set()
    for present, absent, side, snaps_present, snaps_absent in (
        (L, R, pairing.only_left, snaps_l, snaps_r),
        (R, L, pairing.only_right, snaps_r, snaps_l),
    ):
        alone = {f"{r.type}\x1f{r.id}" for r in side}
        for r in side:
            if not (covers(snaps_absent.get(r.type, ()), r.type) and covers(snaps_present.get(r.type, ()), r.type)):
                uncovered.add(r.type)
                continue
            if parent_ref(r) in alone:
                continue  # reported once, through its parent (a bucket's versioning with the bucket)
            findings.append(
                Finding(
                    kind="only_in",
                    severity=only_in_severity(present, absent, rules.promotion),
                    type=r.type,
                    key=r.key,
                    environments=envs,
                    resources={present: r.id},
                    message=f"{r.type} {label(r)} only in {present} (not in {absent})",
                    location=r.location,
                    detail=present,
                )
            )
    findings = tell_apart(findings)
    findings.sort(key=lambda f: (f.kind, f.type, f.key, f.detail))
    return MirrorResult(
        findings=tuple(findings),
        expected=tuple(expected_all[k] for k in sorted(expected_all)),
        role=role,
        pairs=len(pairing.pairs),
        uncovered_types=tuple(sorted(uncovered)),
        expected_used=frozenset(used_rules),
    )


def compare_mirrors(left: Inventory, right: Inventory, rules: Rules) -> list[Finding]:
    """``only_in`` and ``differs`` findings between two mirrors (see :func:`mirror_report`)."""
    return list(mirror_report(left, right, rules).findings)
