"""Looking for a few literals in every string of many values, without serialising them.

Two steps of a comparison first ask which values could matter at all: the cross-environment reference scan
(does a resource name another environment's token, domain or account?) and the equality walk of
:mod:`parity.compare.equal` (could the two sides' placeholders write this string differently?). Both are
"does this string hold one of these literals", over every string of 100k resources. A :class:`Needles` is
such a question: lower-case ASCII byte strings, looked for in a string's UTF-8 with ASCII letters folded
(what ``bytes.lower()`` does), plus 12-digit account ids, looked up for every 12-digit window of every run
of digits (a set lookup per window here, a binary search of a sorted array in the C: either way the number
of accounts barely matters, and an organisation may configure hundreds).

The functions here are the reference; ``_cwalk.c`` holds a port of :func:`values_holding` (and of
:func:`holds`, inside its equality walk), used where built (tests/test_equal.py holds them equal).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parity.model import MAX_DEPTH, Json
from parity.normalize.native import compiled

_DIGIT_RUN = re.compile(rb"[0-9]{12,}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class Needles:
    """Literals to look for (see the module docstring); build with :func:`needles`."""

    names: tuple[bytes, ...]
    accounts: frozenset[str]


def needles(names: Iterable[str | bytes], accounts: Iterable[str] = ()) -> Needles:
    """``names`` looked for with ASCII case folded; ``accounts`` (12 digits) as digit windows, anything
    else given as an account looked for as a name."""
    found = {(n if isinstance(n, bytes) else n.encode()).lower() for n in names}
    ids: set[str] = set()
    for a in accounts:
        if _ACCOUNT_ID.fullmatch(a):
            ids.add(a)
        else:
            found.add(a.encode().lower())
    return Needles(tuple(sorted(found)), frozenset(ids))


def holds(s: str, nd: Needles) -> bool:
    """Whether string ``s`` holds one of ``nd``'s names (ASCII case folded) or accounts."""
    b = s.encode()
    if nd.names:
        low = b.lower()
        if any(n in low for n in nd.names):
            return True
    if nd.accounts:
        for run in _DIGIT_RUN.findall(b):
            if any(run[i : i + 12].decode() in nd.accounts for i in range(len(run) - 11)):
                return True
    return False


def _strings_hold(value: Json, nd: Needles, depth: int) -> bool:
    t = type(value)
    if t is str:
        return holds(value, nd)
    if depth > MAX_DEPTH:
        return True  # deeper than parity reads: let the caller's walk decide
    if t is dict:
        return any(_strings_hold(v, nd, depth + 1) for v in value.values())
    if t is list:
        return any(_strings_hold(v, nd, depth + 1) for v in value)
    return False


def values_holding(values: Sequence[Json], nd: Needles) -> bytes:
    """Per value, 1 when one of its string values (mapping values and list items at any depth, not keys)
    holds a needle, else 0; a value nested deeper than ``MAX_DEPTH`` counts as holding one."""
    c = compiled()
    if c is None:
        return values_holding_py(values, nd)
    return c.holding(values if type(values) is list else list(values), nd.names, nd.accounts, MAX_DEPTH)  # type: ignore[no-any-return]


def values_holding_py(values: Sequence[Json], nd: Needles) -> bytes:
    """:func:`values_holding` in Python: the reference."""
    return bytes(_strings_hold(v, nd, 0) for v in values)
