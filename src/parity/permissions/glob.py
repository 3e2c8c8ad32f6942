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


def _literal_ends(p: str) -> tuple[str, str]:
    """The literal text before the first and after the last wildcard."""
    head = re.split(r"[*?]", p, maxsplit=1)[0]
    tail = re.split(r"[*?]", p)[-1]
    return head, tail


def _covers(a: str, b: str) -> bool:
    """Sound test: ``a`` matches ``b`` read as a string of symbols, an ``a`` ``*`` absorbing any run (wildcards
    included), an ``a`` ``?`` one literal or ``?``. Exact when neither holds a ``?``."""
    reach = [True] + [False] * len(b)
    for c in a:
        nxt = [False] * (len(b) + 1)
        if c == "*":
            seen = False
            for j in range(len(b) + 1):
                seen = seen or reach[j]
                nxt[j] = seen
        else:
            for j in range(len(b)):
                if reach[j] and (b[j] == c if c != "?" else b[j] != "*"):
                    nxt[j + 1] = True
        reach = nxt
    return reach[-1]


def _included(a: str, b: str, budget: int = 2000) -> bool:
    """Language inclusion L(b) ⊆ L(a) by walking both automata (states: sets of positions) over the
    literals either names plus one character neither does; False when ``budget`` states do not settle it."""
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
                if len(seen) >= budget:
                    return False
                seen.add(pair)
                todo.append(pair)
    return True


@functools.lru_cache(maxsize=262144)
def contains(outer: str, inner: str) -> bool:
    """Whether every string matched by glob ``inner`` is matched by glob ``outer``.

    Never True wrongly (a wider scope is never hidden); exact in practice (a subset is not called wider): plain
    matching when ``inner`` has no wildcard; a literal head/tail of ``outer`` that ``inner`` does not
    share rules it out; :func:`_covers` (exact for ``*``-only globs, the usual ARN case) says yes; with a
    ``?`` about, the automata walk (:func:`_included`) decides, conservatively "no" past a state budget.
    """
    if outer == "*" or outer == inner:
        return True
    if not has_wildcard(inner):
        return regex(outer).match(inner) is not None
    if not has_wildcard(outer):
        return False
    a, b = simplify(outer), simplify(inner)
    (ah, at), (bh, bt) = _literal_ends(a), _literal_ends(b)
    if not bh.startswith(ah) or not bt.endswith(at):
        return False
    if _covers(a, b):
        return True
    if "?" not in a and "?" not in b:
        return False
    return _included(a, b)
