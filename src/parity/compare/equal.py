"""Which pairs of comparable values are equal after placeholders, told without serialising them.

Between two mirrors nearly every pair is equal, and the comparison must say so for 100k pairs in a fraction
of the time it takes to read them. The exact test is "equal bytes after each side's placeholders"
(:meth:`parity.normalize.placeholders.Placeholders.sub_records`), which serialises every value and runs
every substitution pass over all of it. This module walks the two values of each pair together instead
(:func:`equal_parts`), and sets aside only the strings whose substitution could matter:

- two strings that differ (``shop-staging-db`` / ``shop-prod-db``);
- a string (or mapping key) with the same text on both sides that holds one of either side's token
  spellings or account ids (:func:`parity.compare.textscan.holds`): the two sides' placeholders may write
  it differently (staging naming ``shop-prod-db`` is a difference).

Everything else must be the same on both sides: the same mapping keys, list lengths, and scalars of the
same type with the same value (``1``, ``1.0`` and ``True`` differ, as their JSON does). The strings set
aside are then substituted in one batch per side, each in the same JSON string context the full
serialisation gives it, so with the same passes and the same result; a pair is equal when all of its
strings are. Anything else (a different shape, another type, a substitution that does not parse back) is
"unsure", and :func:`unsure_pairs` returns it for the exact test: the walk only ever shortens that test,
it never decides that two values differ.

Why this holds: the passes (tokens, accounts, regions, generated ids, ARN accounts) match only inside a
string and look at most at its opening quote before it, so a record's substitution is its strings'
substitutions, structure untouched. Two conditions make that exact and are checked
(:func:`walk_needles`): every token is printable ASCII without a quote or backslash (so no match can
cross a string's quotes), starts with a letter, and its leading letters and digits are not ``true``,
``false`` or ``null`` (outside strings, JSON has letters only in those three words, and a token starting
with a digit could match a number: ``pre-prod`` qualifies, ``2`` or ``null-x`` do not); and accounts are
only ever matched inside strings (the account patterns exclude bare JSON numbers).

:func:`equal_parts` is the reference; ``_cwalk.c`` holds a port (tests/test_equal.py holds them equal).
"""

from __future__ import annotations

import re
import struct
from array import array
from collections.abc import Sequence

import orjson

from parity.compare.textscan import Needles, holds, needles
from parity.model import MAX_DEPTH, Json
from parity.normalize.native import compiled
from parity.normalize.placeholders import Placeholders
from parity.serialize import json_bytes

EQUAL, UNSURE, STRINGS = 0, 1, 2  # equal_parts' status per pair
Drops = frozenset[str] | None  # top-level keys a value is compared without
_JSON_WORDS = frozenset({"true", "false", "null"})
_LEAD = re.compile(r"[a-z0-9]*")  # a (lower-case) token's leading letters and digits
_CHUNK = 50_000  # strings substituted per pass (a few MB: the passes' input stays in the CPU caches)


def _walkable(token: str) -> bool:
    """A (lower-case) token that can only ever match inside a JSON string (see the module docstring)."""
    if not (token.isascii() and token.isprintable() and token[:1].isalpha()) or '"' in token or "\\" in token:
        return False
    lead = _LEAD.match(token)
    return lead is not None and lead[0] not in _JSON_WORDS


def walk_needles(ph_l: Placeholders, ph_r: Placeholders) -> Needles | None:
    """What makes a string with the same text on both sides worth substituting: every token and account
    id of either side (own and foreign); None when the walk cannot be exact (see the module docstring)."""
    tokens = {*ph_l.tokens, *ph_r.tokens}
    if any(not _walkable(t) for t in tokens):
        return None
    accounts = {*ph_l.accounts, *ph_r.accounts, *ph_l.foreign_accounts, *ph_r.foreign_accounts}
    return needles(tokens, accounts)


class _SetAside:
    """The strings set aside by a walk: distinct strings per side, and an index pair per string pair."""

    def __init__(self) -> None:
        self.left: dict[str, int] = {}
        self.right: dict[str, int] = {}
        self.refs: list[int] = []  # (index in left, index in right) per pair, flat

    def add(self, a: str, b: str) -> None:
        self.refs += (self.left.setdefault(a, len(self.left)), self.right.setdefault(b, len(self.right)))


def _same(a: Json, b: Json, nd: Needles, out: _SetAside, depth: int) -> bool:
    t = type(a)
    if t is not type(b):
        return False
    if t is str:
        if a != b or holds(a, nd):
            out.add(a, b)
        return True
    if t is dict:
        if depth > MAX_DEPTH or len(a) != len(b):
            return False
        for k, x in a.items():
            if type(k) is not str or k not in b:
                return False
            if holds(k, nd):
                out.add(k, k)
            if not _same(x, b[k], nd, out, depth + 1):
                return False
        return True
    if t is list:
        if depth > MAX_DEPTH or len(a) != len(b):
            return False
        return all(_same(x, y, nd, out, depth + 1) for x, y in zip(a, b, strict=True))
    if a is None or t is bool:
        return a is b
    if t is int:
        return bool(a == b)
    if t is float:  # the same bits: 0.0 and -0.0 are written differently
        return struct.pack("<d", a) == struct.pack("<d", b)
    return False


def _same_top(a: Json, b: Json, da: Drops, db: Drops, nd: Needles, out: _SetAside) -> bool:
    """:func:`_same` of two mappings without their top-level keys in ``da`` / ``db`` (what the KB calls
    instance-specific: ``arn``, ``id``, ...), as if they had been removed."""
    if (da is None and db is None) or type(a) is not dict or type(b) is not dict:
        return _same(a, b, nd, out, 0)
    kept = [k for k in a if da is None or k not in da]
    if len(kept) != sum(1 for k in b if db is None or k not in db):
        return False
    for k in kept:
        if type(k) is not str or k not in b or (db is not None and k in db):
            return False
        if holds(k, nd):
            out.add(k, k)
        if not _same(a[k], b[k], nd, out, 1):
            return False
    return True


def equal_parts(
    left: Sequence[Json],
    right: Sequence[Json],
    nd: Needles,
    drops_l: Sequence[Drops] | None = None,
    drops_r: Sequence[Drops] | None = None,
) -> tuple[bytes, list[str], list[str], bytes, bytes]:
    """Walk each pair ``(left[i], right[i])``, without the top-level keys in ``drops_l[i]`` /
    ``drops_r[i]`` where given; returns ``(status, left strings, right strings, refs, bounds)``.
    ``status[i]`` is EQUAL (the same, no string to check), STRINGS (the same if its string pairs are equal
    after each side's placeholders) or UNSURE. The strings set aside are listed once per side (first seen
    first); pair ``i``'s string pairs are ``refs[bounds[i]:bounds[i+1]]``, each an index into the left and
    one into the right strings (``refs`` and ``bounds`` are native int64 arrays, as bytes)."""
    c = compiled()
    if c is None:
        return equal_parts_py(left, right, nd, drops_l, drops_r)
    # An account id is in a string exactly when it is a window of a digit run: a plain needle here.
    names = nd.names + tuple(sorted(a.encode() for a in nd.accounts))
    dl = None if drops_l is None else list(drops_l)
    dr = None if drops_r is None else list(drops_r)
    return c.equal_parts(list(left), list(right), names, MAX_DEPTH, dl, dr)  # type: ignore[no-any-return]


def equal_parts_py(
    left: Sequence[Json],
    right: Sequence[Json],
    nd: Needles,
    drops_l: Sequence[Drops] | None = None,
    drops_r: Sequence[Drops] | None = None,
) -> tuple[bytes, list[str], list[str], bytes, bytes]:
    """:func:`equal_parts` in Python: the reference."""
    n = len(left)
    if len(right) != n:
        raise ValueError("equal_parts: the two lists differ in length")
    if (drops_l is not None and len(drops_l) != n) or (drops_r is not None and len(drops_r) != n):
        raise ValueError("equal_parts: drops must be None or a list as long as the values")
    status = bytearray(n)
    out = _SetAside()
    bounds = array("q", [0])
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        mark = len(out.refs)
        da = None if drops_l is None else drops_l[i]
        db = None if drops_r is None else drops_r[i]
        if not _same_top(a, b, da, db, nd, out):
            status[i] = UNSURE
            del out.refs[mark:]  # (its distinct strings stay listed: they are only substituted)
        elif len(out.refs) > mark:
            status[i] = STRINGS
        bounds.append(len(out.refs) // 2)
    return bytes(status), list(out.left), list(out.right), array("q", out.refs).tobytes(), bounds.tobytes()


def settle(status: bytes, refs: bytes, bounds: bytes, left: list[str] | None, right: list[str] | None) -> list[int]:
    """The pairs of an :func:`equal_parts` result that are not equal: UNSURE ones, and STRINGS ones with a
    string pair that differs in ``left``/``right`` (the set-aside strings after placeholders; None when
    they could not be substituted: every STRINGS pair then counts as unequal)."""
    c = compiled()
    if c is None:
        return settle_py(status, refs, bounds, left, right)
    return c.settle(status, refs, bounds, left, right)  # type: ignore[no-any-return]


def settle_py(status: bytes, refs: bytes, bounds: bytes, left: list[str] | None, right: list[str] | None) -> list[int]:
    """:func:`settle` in Python: the reference."""
    rf, bd = array("q", refs), array("q", bounds)
    out = []
    for i, s in enumerate(status):
        if s == EQUAL:
            continue
        settled = s == STRINGS and left is not None and right is not None
        if settled and all(left[rf[2 * k]] == right[rf[2 * k + 1]] for k in range(bd[i], bd[i + 1])):  # type: ignore[index]
            continue
        out.append(i)
    return out


def substituted(ph: Placeholders, strings: Sequence[str]) -> list[str] | None:
    """``strings`` after ``ph``'s passes, each as it is written inside a serialised record (a JSON string);
    None when a substitution does not parse back (a token that also matches an escape)."""
    out: list[str] = []
    for i in range(0, len(strings), _CHUNK):
        part = strings[i : i + _CHUNK]
        try:
            got = orjson.loads(ph.sub_bytes(json_bytes(list(part))))
        except orjson.JSONDecodeError:
            return None
        if type(got) is not list or len(got) != len(part):
            return None
        out += got
    return out


def unsure_pairs(
    left: Sequence[Json],
    right: Sequence[Json],
    ph_l: Placeholders,
    ph_r: Placeholders,
    drops_l: Sequence[Drops] | None = None,
    drops_r: Sequence[Drops] | None = None,
) -> list[int]:
    """The indices of the pairs this walk cannot call equal after placeholders (see the module docstring):
    the pairs that differ, and a few that the exact test will find equal. ``drops_l[i]``/``drops_r[i]``: the
    top-level keys pair ``i``'s values are compared without (None: all of them)."""
    nd = walk_needles(ph_l, ph_r)
    if nd is None:
        return list(range(len(left)))
    status, sl, sr, refs, bounds = equal_parts(left, right, nd, drops_l, drops_r)
    return settle(status, refs, bounds, substituted(ph_l, sl), substituted(ph_r, sr))
