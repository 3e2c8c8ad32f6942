"""Pairing the resources of two environments: which staging object is the mirror of which production one.

Pairs are made between resources of the same ``type`` (but for the API-version pass below), and only
for unambiguous 1:1 matches: a candidate key shared by exactly one unpaired resource on each side.
Passes run in order, each over what is still unpaired:

1. the same ``key`` (same Terraform address, Kubernetes key, config path);
2. the same value of a pair tag (``Rules.pair_tags``, one pass per tag, in order), after each side's
   placeholders (its environment tokens, accounts, regions) are applied to the value;
3. the same ``name`` after placeholders (``shop-prod-logs`` ~ ``shop-staging-logs``);
4. the same ``key`` after placeholders (a namespace or a path holding the environment's name).

With ``api_versions`` (environment vs environment), one last pass runs over what is still unpaired, across
types: Kubernetes objects whose types differ only in the API version (``policy/v1beta1/PodDisruptionBudget``
~ ``policy/v1/PodDisruptionBudget``: same group and kind) pair by the same rules on their namespace and
name: the same ``id`` (``namespace/name``), then the same name after placeholders, then the same ``id``
after placeholders, each candidate unique on both sides among the leftovers of that group and kind (two
versions of one object on a side pair with nothing). Only types of the Kubernetes form
(:func:`kube_group_kind`) take part, and of those only a group and kind left unpaired under two types or
more; such pairs are also listed in :attr:`Pairing.across_versions`.

Whatever stays unpaired is returned per side.

One object seen twice on one side (the same ``type``, ``id`` and ``key`` from two sources of one
environment: a Terraform state and a plan of it, a manifest folder given twice) is one object, not an
ambiguity: such copies are collapsed to one representative before pairing (chosen by source, place and
content, never by input order) and the others are returned in :attr:`Pairing.copies`, so a caller can
compare them too. Without this, each copy made every pass ambiguous and the whole side read as
"only in" both environments.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson

from parity.model import Resource
from parity.normalize.placeholders import Placeholders

KeyFn = Callable[[Resource], str | None]


@dataclass(frozen=True)
class Pairing:
    pairs: tuple[tuple[Resource, Resource], ...]
    only_left: tuple[Resource, ...]
    only_right: tuple[Resource, ...]
    # representative -> its other copies (same type, id and key on the same side), by ``id()`` of the
    # representative; empty in the usual case
    copies: dict[int, tuple[Resource, ...]] = field(default_factory=dict)
    # the pairs (also in ``pairs``) of one Kubernetes object under two API versions of its type; empty
    # unless asked for (``pair_resources(..., api_versions=True)``)
    across_versions: tuple[tuple[Resource, Resource], ...] = ()

    def with_copies(self, r: Resource) -> tuple[Resource, ...]:
        """``r`` and the copies it stands for."""
        return (r, *self.copies.get(id(r), ()))


def copy_order(r: Resource) -> tuple[str, str, int, str, str, str, bytes]:
    """Which of several copies of one object stands for them: by source, place, name, then content (every
    field: copies that compare equal here are equal)."""
    loc = r.location
    content = orjson.dumps([r.attributes, r.tags], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return (
        r.origin,
        loc.file if loc else "",
        (loc.line or 0) if loc else 0,
        r.name or "",
        r.address or "",
        r.owner,
        content,
    )


def collapse_copies(
    resources: list[Resource], keys: Sequence[str], copies: dict[int, tuple[Resource, ...]]
) -> list[Resource]:
    """``resources`` with every group of copies (same id and key; ``keys[i]`` is ``resources[i].key``, all
    of one type) reduced to one representative, in input order; the others are recorded in ``copies``."""
    if len(set(keys)) == len(keys):  # the usual case: no key twice, so no copies
        return resources
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(resources):
        groups[(r.id, r.key)].append(i)
    if len(groups) == len(resources):
        return resources
    keep: list[int] = []
    for group in groups.values():
        if len(group) > 1:  # (by position: one Resource object may be in two snapshots)
            group.sort(key=lambda i: copy_order(resources[i]))
            copies[id(resources[group[0]])] = tuple(resources[i] for i in group[1:])
        keep.append(group[0])
    return [resources[i] for i in sorted(keep)]


def match_unique(
    left: list[Resource], right: list[Resource], kl: KeyFn, kr: KeyFn, pairs: list[tuple[Resource, Resource]]
) -> tuple[list[Resource], list[Resource]]:
    """Append to ``pairs`` every key shared by exactly one resource per side; return the rest per side."""
    return match_unique_keys(left, right, [kl(r) for r in left], [kr(r) for r in right], pairs)


def _names(ph: Placeholders, resources: list[Resource]) -> list[str | None]:
    """Each resource's name after placeholders (None without a name), substituted in one batch."""
    named = [r.name for r in resources if r.name]
    subs = iter(ph.sub_strs(named))
    return [next(subs) if r.name else None for r in resources]


def _unique_index(keys: Sequence[str | None]) -> dict[str, int]:
    """key -> index of its only holder, or -1 when several hold it; in order of first appearance."""
    got = dict(zip(keys, range(len(keys)), strict=True))
    if len(got) == len(keys) and None not in got:
        return got  # type: ignore[return-value]  # the common case: every key present and unique
    out: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k is not None:
            out[k] = -1 if k in out else i
    return out


def match_unique_keys(
    left: list[Resource],
    right: list[Resource],
    keys_l: Sequence[str | None],
    keys_r: Sequence[str | None],
    pairs: list[tuple[Resource, Resource]],
) -> tuple[list[Resource], list[Resource]]:
    """:func:`match_unique` with each side's keys already computed (``keys_l[i]`` is ``left[i]``'s key)."""
    gl = _unique_index(keys_l)
    gr = _unique_index(keys_r)
    if len(gl) == len(keys_l) and len(gr) == len(keys_r):  # every key present and unique: set lookups only
        if gr.keys().isdisjoint(keys_l):  # nothing pairs (keys holding the environment's name): one C loop
            return left, right
        found = [(left[i], right[gr[k]]) for i, k in enumerate(keys_l) if k in gr]
        pairs += found
        # What stays unpaired, in input order: the keys one side has and the other lacks (set differences).
        return (
            [left[i] for i in sorted(gl[k] for k in gl.keys() - gr.keys())] if len(found) < len(left) else [],
            [right[i] for i in sorted(gr[k] for k in gr.keys() - gl.keys())] if len(found) < len(right) else [],
        )
    used_l: set[int] = set()
    used_r: set[int] = set()
    get_r = gr.get
    for k, i in gl.items():
        if i >= 0:
            j = get_r(k, -1)
            if j >= 0:
                pairs.append((left[i], right[j]))
                used_l.add(i)
                used_r.add(j)
    if not used_l:
        return left, right
    return (
        [r for i, r in enumerate(left) if i not in used_l] if len(used_l) < len(left) else [],
        [r for i, r in enumerate(right) if i not in used_r] if len(used_r) < len(right) else [],
    )


def _tag_key(ph: Placeholders, tag: str) -> KeyFn:
    def key(r: Resource) -> str | None:
        v = r.tags.get(tag)
        return ph.sub_str(v) if isinstance(v, str) and v else None

    return key


# A Kubernetes type: ``[group/]version/Kind`` (``apps/v1/Deployment``, core ``v1/ConfigMap``) with a
# Kubernetes API version (``v1``, ``v2beta2``, ``v1alpha1``) and a kind. Terraform and AWS types hold no
# ``/``; ``config/yaml`` and ``pipeline/github/job`` have neither such a version nor a kind.
_KUBE_TYPE = re.compile(r"(?:([a-z0-9][a-z0-9.-]*)/)?v[1-9][0-9]*(?:(?:alpha|beta)[1-9][0-9]*)?/([A-Z][A-Za-z0-9]*)")


def kube_group_kind(type_: str) -> str | None:
    """``group/Kind`` of a Kubernetes type, the version left out (``policy/PodDisruptionBudget`` for
    ``policy/v1beta1/PodDisruptionBudget``; ``/ConfigMap`` for the core group's ``v1/ConfigMap``), or
    None for a type of another kind (``aws_s3_bucket``, ``config/yaml``, ``pipeline/github/job``)."""
    m = _KUBE_TYPE.fullmatch(type_)
    return None if m is None else f"{m[1] or ''}/{m[2]}"


def api_version(type_: str) -> str:
    """The ``apiVersion`` of a Kubernetes type (``policy/v1`` for ``policy/v1/PodDisruptionBudget``)."""
    return type_.rpartition("/")[0]


def pair_api_versions(
    left: list[Resource], right: list[Resource], left_ph: Placeholders, right_ph: Placeholders
) -> tuple[list[Resource], list[Resource], list[tuple[Resource, Resource]]]:
    """The API-version pass over what the other passes left (see the module docstring): the pairs it makes
    and what stays unpaired per side, in input order."""
    tl, tr = {r.type for r in left}, {r.type for r in right}
    gks = {t: gk for t in tl | tr if (gk := kube_group_kind(t)) is not None}
    # group/kind -> its types among the leftovers of either side, for those left on both sides
    both = {gks[t] for t in tl if t in gks}.intersection(gks[t] for t in tr if t in gks)
    types: dict[str, set[str]] = defaultdict(set)
    for t, gk in gks.items():
        if gk in both:
            types[gk].add(t)
    # Only a group and kind left under two or more types can pair here: under one type, the passes of that
    # type already had them (and a pair of one type is dropped below). Leaving the others out keeps
    # thousands of unpaired objects of a type both sides hold from costing three more passes.
    kinds = {t: gk for gk, ts in types.items() if len(ts) > 1 for t in ts}
    if not kinds:  # the usual case
        return left, right, []
    cand_l = [r for r in left if r.type in kinds]
    cand_r = [r for r in right if r.type in kinds]
    found: list[tuple[Resource, Resource]] = []

    def keyed(rs: list[Resource], vals: Sequence[str | None]) -> list[str | None]:
        return [None if v is None else f"{kinds[r.type]}\x1f{v}" for r, v in zip(rs, vals, strict=True)]

    ul, ur = cand_l, cand_r
    ul, ur = match_unique_keys(ul, ur, keyed(ul, [r.id for r in ul]), keyed(ur, [r.id for r in ur]), found)
    if ul and ur:
        ul, ur = match_unique_keys(ul, ur, keyed(ul, _names(left_ph, ul)), keyed(ur, _names(right_ph, ur)), found)
    if ul and ur:
        ids_l, ids_r = left_ph.sub_strs([r.id for r in ul]), right_ph.sub_strs([r.id for r in ur])
        ul, ur = match_unique_keys(ul, ur, keyed(ul, ids_l), keyed(ur, ids_r), found)
    # Two of one type left unique here were not paired by the passes of that type: they stay apart.
    found = [(a, b) for a, b in found if a.type != b.type]
    if not found:
        return left, right, []
    used = {id(x) for pair in found for x in pair}
    return [r for r in left if id(r) not in used], [r for r in right if id(r) not in used], found


def pair_resources(
    left: Sequence[Resource],
    right: Sequence[Resource],
    left_ph: Placeholders,
    right_ph: Placeholders,
    pair_tags: Sequence[str] = (),
    *,
    api_versions: bool = False,
) -> Pairing:
    """Pair ``left`` with ``right`` (see the module docstring). Deterministic for a given input order.
    ``api_versions``: also pair Kubernetes objects across API versions of their type (the last pass)."""
    by_type_l: dict[str, list[Resource]] = defaultdict(list)
    by_type_r: dict[str, list[Resource]] = defaultdict(list)
    for r in left:
        by_type_l[r.type].append(r)
    for r in right:
        by_type_r[r.type].append(r)
    pairs: list[tuple[Resource, Resource]] = []
    only_l: list[Resource] = []
    only_r: list[Resource] = []
    copies: dict[int, tuple[Resource, ...]] = {}
    tag_passes = [(_tag_key(left_ph, t), _tag_key(right_ph, t)) for t in pair_tags]
    for type_ in sorted({*by_type_l, *by_type_r}):
        ul, ur = by_type_l.get(type_, []), by_type_r.get(type_, [])
        keys_l, keys_r = [r.key for r in ul], [r.key for r in ur]
        ul, ur = collapse_copies(ul, keys_l, copies), collapse_copies(ur, keys_r, copies)
        if ul and ur:
            if len(ul) != len(keys_l):
                keys_l = [r.key for r in ul]
            if len(ur) != len(keys_r):
                keys_r = [r.key for r in ur]
            ul, ur = match_unique_keys(ul, ur, keys_l, keys_r, pairs)
        if ul and ur and any(r.tags for r in ul) and any(r.tags for r in ur):
            for kl, kr in tag_passes:  # (skipped where one side has no tags at all: they would pair nothing)
                if not ul or not ur:
                    break
                ul, ur = match_unique(ul, ur, kl, kr, pairs)
        if ul and ur:
            ul, ur = match_unique_keys(ul, ur, _names(left_ph, ul), _names(right_ph, ur), pairs)
        if ul and ur:
            keys_l, keys_r = left_ph.sub_strs([r.key for r in ul]), right_ph.sub_strs([r.key for r in ur])
            ul, ur = match_unique_keys(ul, ur, keys_l, keys_r, pairs)
        only_l.extend(ul)
        only_r.extend(ur)
    across: list[tuple[Resource, Resource]] = []
    if api_versions and only_l and only_r:
        only_l, only_r, across = pair_api_versions(only_l, only_r, left_ph, right_ph)
        pairs += across
    return Pairing(tuple(pairs), tuple(only_l), tuple(only_r), copies, tuple(across))
