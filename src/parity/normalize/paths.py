"""Attribute paths: how a place inside a resource is written, in findings and in the noise KB.

A rendered path joins mapping keys with ``.`` and list positions in brackets:
``spec.template.spec.containers[web].image`` (a list of named objects is keyed by the name),
``ingress[0].from_port`` (other lists by index). A key that would be ambiguous in that syntax (it holds
``.``, ``[``, ``]``, ``#``, a space or is empty) is written ``["kubectl.kubernetes.io/revision"]``.

A path *pattern* (noise KB) uses the same syntax plus two wildcards: ``*`` for any mapping key and
``[]`` for every element of a list.
"""

from __future__ import annotations

import json
import re

_PLAIN_KEY = re.compile(r"[^.\[\]#\s\"]+")
_PATTERN_PART = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|(\[\])|\.?([^.\[\]"]+)')

ANY_KEY = "*"
ANY_ITEM = "[]"


def key_segment(key: str, first: bool) -> str:
    """The rendered segment for mapping key ``key`` (``first``: no leading dot)."""
    if _PLAIN_KEY.fullmatch(key):
        return key if first else "." + key
    return "[" + json.dumps(key) + "]"


def join_key(path: str, key: str) -> str:
    return path + key_segment(key, not path)


def join_item(path: str, label: str) -> str:
    return f"{path}[{label}]"


def parse_pattern(pattern: str) -> tuple[str, ...]:
    """Split a KB path pattern into segments: key names, ``*`` or ``[]``.

    Raises ValueError with the offending position when the pattern is malformed.
    """
    parts: list[str] = []
    pos = 0
    while pos < len(pattern):
        m = _PATTERN_PART.match(pattern, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"bad path pattern {pattern!r} at position {pos}")
        if m.group(1) is not None:
            parts.append(json.loads('"' + m.group(1) + '"'))
        elif m.group(2) is not None:
            parts.append(ANY_ITEM)
        else:
            if pos > 0 and pattern[pos] != "." and pattern[pos - 1] != "]":
                raise ValueError(f"bad path pattern {pattern!r} at position {pos}")
            parts.append(m.group(3))
        pos = m.end()
    if not parts:
        raise ValueError("empty path pattern")
    return tuple(parts)
