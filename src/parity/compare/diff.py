"""Path-level diff of two canonical values.

Rules (DESIGN.md section 4, "diff"):

- mappings are compared key by key (``a.b``);
- a list whose elements are all mappings carrying the same identity field (``name``, ``Name``, ``id``,
  ``key`` or ``Sid``, tried in that order) with unique scalar values on each side is compared by that
  identity: ``containers[web].image``; when nothing else differs but the order of the same elements
  does, that is one change at the list's path with the two orders of identities;
- a list the noise KB marks order-insensitive, and an IAM ``Action``/``NotAction``/``Resource``/
  ``NotResource`` list, is compared as a set: an element on one side only is
  reported at ``path[element]`` (the element itself for scalars, compact JSON for small objects, a
  short hash for large ones);
- any other list is compared by position: ``ingress[0].from_port``;
- a string holding several lines on both sides is compared line by line (difflib): a line of the form
  ``key = value`` / ``key: value`` / ``KEY=value`` whose key is unique on its side is compared by key
  and reported at ``path#key``; other changed lines at ``path:line N`` (N counted on the left side,
  or on the right for an added line);
- anything else that differs (scalars, or values of different kinds) is one change at its path.

Absent is ``None`` in a :class:`~parity.model.Change`. Redacted markers are plain strings here: two
different markers are a change showing the two markers, never more.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence

import orjson

from parity.model import Change, Json
from parity.normalize.canonical import sort_key
from parity.normalize.noise import RuleNode
from parity.normalize.paths import join_item, join_key

IDENTITY_FIELDS = ("name", "Name", "id", "key", "Sid")
# IAM statement fields that are sets (canonical form sorts them): diffed as sets wherever they appear.
SET_KEYS = frozenset({"Action", "NotAction", "Resource", "NotResource"})
_SET_NODE = RuleNode(unordered=True)
_KV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*[=:](?!//)\s*(.*?)\s*$")
_LABEL_MAX = 60


def diff(left: Json, right: Json, rules: RuleNode | None = None, path: str = "") -> list[Change]:
    """The changes that turn ``left`` into ``right``, in a deterministic order."""
    out: list[Change] = []
    _diff(left, right, rules, path, out)
    return out


_DUMP_OPTS = orjson.OPT_NON_STR_KEYS


def _diff(a: Json, b: Json, node: RuleNode | None, path: str, out: list[Change]) -> None:
    ta, tb = type(a), type(b)
    if ta is tb and a == b:
        if ta is not dict and ta is not list:
            return
        # Equal containers are skipped whole, in C. Python's == takes 1 for True and 1.0 for 1, which are
        # changes here: equal serialisations confirm (another key order only falls through to the walk).
        try:
            if orjson.dumps(a, option=_DUMP_OPTS) == orjson.dumps(b, option=_DUMP_OPTS):
                return
        except TypeError:  # what orjson cannot write (an integer past 64 bits): walked below
            pass
    if ta is dict and tb is dict:
        for k in sorted({*a, *b}, key=str):
            child = node.child(k) if node is not None else None
            if child is None and k in SET_KEYS:
                child = _SET_NODE
            elif child is None and k == "Statement" and _lists_of_unequal_length(a.get(k), b.get(k)):
                # A statement added or removed: index-wise diffing would blame every statement after it.
                child = _SET_NODE
            _diff(a.get(k), b.get(k), child, join_key(path, str(k)), out)
        return
    if ta is list and tb is list:
        _diff_list(a, b, node, path, out)
        return
    if ta is str and tb is str and "\n" in a and "\n" in b:
        _diff_text(a, b, path, out)
        return
    out.append(Change(path, a, b))


def _lists_of_unequal_length(a: Json, b: Json) -> bool:
    return type(a) is list and type(b) is list and len(a) != len(b)


def identity_field(items: Sequence[Json]) -> str | None:
    """The identity field a list of mappings is keyed by, or None (see the module docstring)."""
    if not items or not all(type(x) is dict for x in items):
        return None
    for f in IDENTITY_FIELDS:
        vals = [x.get(f) for x in items]
        if all(type(v) in (str, int) for v in vals) and len(set(vals)) == len(vals):
            return f
    return None


def _diff_list(a: list[Json], b: list[Json], node: RuleNode | None, path: str, out: list[Change]) -> None:
    items = node.items if node is not None else None
    fa, fb = identity_field(a), identity_field(b)
    field = fa if fa is not None and (fb == fa or not b) else (fb if fb is not None and not a else None)
    if field is not None:
        ka = {x[field]: x for x in a}
        kb = {x[field]: x for x in b}
        order = list(ka) + [k for k in kb if k not in ka]
        before = len(out)
        for k in order:
            _diff(ka.get(k), kb.get(k), items, join_item(path, str(k)), out)
        common_a = [k for k in ka if k in kb]
        common_b = [k for k in kb if k in ka]
        if len(out) == before and common_a != common_b:
            out.append(Change(path, common_a, common_b))  # same elements, another order
        return
    if node is not None and node.unordered:
        sa = {sort_key(x): x for x in a}
        sb = {sort_key(x): x for x in b}
        for k in sorted(sa.keys() - sb.keys()):
            out.append(Change(join_item(path, element_label(sa[k], k)), sa[k], None))
        for k in sorted(sb.keys() - sa.keys()):
            out.append(Change(join_item(path, element_label(sb[k], k)), None, sb[k]))
        return
    for i in range(max(len(a), len(b))):
        p = join_item(path, str(i))
        if i >= len(a) or i >= len(b):  # an element on one side only, even a null one
            out.append(Change(p, a[i] if i < len(a) else None, b[i] if i < len(b) else None))
        else:
            _diff(a[i], b[i], items, p, out)


def element_label(value: Json, raw: bytes | None = None) -> str:
    """How an element of an order-insensitive list is named in a path."""
    if isinstance(value, str) and len(value) <= _LABEL_MAX:
        return value
    raw = raw if raw is not None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if len(raw) <= _LABEL_MAX:
        return raw.decode()
    return "#" + hashlib.sha256(raw).hexdigest()[:10]


def _keyed_lines(lines: list[str]) -> dict[str, tuple[int, str]]:
    """key -> (line index, value) for key/value lines whose key is unique in ``lines``."""
    found: dict[str, tuple[int, str]] = {}
    dup: set[str] = set()
    for i, line in enumerate(lines):
        m = _KV_LINE.match(line)
        if m is None:
            continue
        k = m.group(1)
        if k in found:
            dup.add(k)
        found[k] = (i, m.group(2))
    return {k: v for k, v in found.items() if k not in dup}


def _diff_text(a: str, b: str, path: str, out: list[Change]) -> None:
    la, lb = a.splitlines(), b.splitlines()
    ka, kb = _keyed_lines(la), _keyed_lines(lb)
    # A key is compared by key only when it is unique on both sides it appears on.
    keyed = {k for k in {*ka, *kb} if (k in ka or not _has_key(la, k)) and (k in kb or not _has_key(lb, k))}
    used_a = {ka[k][0] for k in keyed if k in ka}
    used_b = {kb[k][0] for k in keyed if k in kb}
    for k in sorted(keyed, key=lambda k: ka[k][0] if k in ka else len(la) + kb[k][0]):
        va = ka[k][1] if k in ka else None
        vb = kb[k][1] if k in kb else None
        if va != vb:
            out.append(Change(f"{path}#{k}", va, vb))
    rest_a = [(i, s) for i, s in enumerate(la) if i not in used_a]
    rest_b = [(i, s) for i, s in enumerate(lb) if i not in used_b]
    sm = difflib.SequenceMatcher(None, [s for _, s in rest_a], [s for _, s in rest_b], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        for n in range(max(i2 - i1, j2 - j1)):
            ia, ib = i1 + n, j1 + n
            left = rest_a[ia] if ia < i2 else None
            right = rest_b[ib] if ib < j2 else None
            lineno = left[0] + 1 if left is not None else right[0] + 1  # type: ignore[index]
            out.append(Change(f"{path}:line {lineno}", left[1] if left else None, right[1] if right else None))


def _has_key(lines: list[str], key: str) -> bool:
    return any((m := _KV_LINE.match(line)) is not None and m.group(1) == key for line in lines)
