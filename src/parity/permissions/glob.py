"""IAM globs: ``*`` (any run of characters, ``:`` and ``/`` included) and ``?`` (one character).

IAM matches action names and resource ARNs with these two wildcards only (no character classes), so
:func:`regex` escapes everything else. :func:`contains` decides whether every string one pattern
matches is matched by another: how resource scopes (and action patterns) compare, so a subset is never
reported as wider.
"""

from __future__ import annotations

import functools
import re


def simplify(pattern: str) -> str:
    """``pattern`` with each run of wildcards in one canonical form: its ``?`` first, then one ``*`` if
    it had any (``*?*`` and ``?*`` match the same strings). fewer states for :func:`contains`)."""
    return re.sub(r"[*?]{2,}", lambda m: "?" * m.group().count("?") + ("*" if "*" in m.group() else ""), pattern)


@functools.lru_cache(maxsize=65536)
def regex(pattern: str) -> re.Pattern[str]:
    """A compiled, anchored, case-sensitive regex for an IAM glob."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("(?s:" + "".join(parts) + r")\Z")


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _close(p: str, states: frozenset[int]) -> frozenset[int]:
    """Add the positions reachable by letting a ``*`` match nothing."""
    out = set(states)
    todo = list(states)
    while todo:
        i = todo.pop()
        if i < len(p) and p[i] == "*" and i + 1 not in out:
            out.add(i + 1)
            todo.append(i + 1)
    return frozenset(out)


def _step(p: str, states: frozenset[int], c: str) -> frozenset[int]:
    nxt: set[int] = set()
    for i in states:
        if i < len(p):
            if p[i] == "*":
                nxt.add(i)
            elif p[i] == "?" or p[i] == c:
                nxt.add(i + 1)
    return _close(p, frozenset(nxt))


@functools.lru_cache(maxsize=262144)
def contains(outer: str, inner: str) -> bool:
    """Whether every string matched by glob ``inner`` is matched by glob ``outer`` (exact).

    Language inclusion of the two patterns' automata: walk ``inner``'s states paired with the *set* of
    ``outer``'s states over an alphabet of the literals either names plus one character neither does; the
    answer is no as soon as ``inner`` can accept where ``outer`` cannot. Patterns are short (ARNs) and
    the answer is cached. Without wildcards in ``inner`` this is plain matching.
    """
    if outer == "*" or outer == inner:
        return True
    if not has_wildcard(inner):
        return regex(outer).match(inner) is not None
    a, b = simplify(outer), simplify(inner)
    alphabet = {c for c in a + b if c not in "*?"}
    alphabet.add(next(chr(i) for i in range(0x100, 0x200) if chr(i) not in alphabet))
    start = (_close(b, frozenset({0})), _close(a, frozenset({0})))
    seen = {start}
    todo = [start]
    while todo:
        bs, as_ = todo.pop()
        if len(b) in bs and len(a) not in as_:
            return False
        for c in alphabet:
            nb = _step(b, bs, c)
            if not nb:
                continue
            pair = (nb, _step(a, as_, c))
            if pair not in seen:
                seen.add(pair)
                todo.append(pair)
    return True
