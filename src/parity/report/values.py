"""Short, safe text for values in human formats (JSON output keeps values whole)."""

from __future__ import annotations

from typing import Any

import orjson

MAX_VALUE_CHARS = 80

# Control characters shown as what they are instead of acting on the reader's terminal (an escape sequence
# in a scanned file could retitle the window, hide text or fake output): C0 as their Unicode control pictures
# (one column wide, like the character they stand for), DEL, C1 and the bidirectional overrides that can
# make text read differently from what it holds, as U+FFFD.
_VISIBLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_VISIBLE |= {0x7F: 0x2421} | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
_VISIBLE |= dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], 0xFFFD)


def visible(text: str) -> str:
    """``text`` with control characters (but newline and tab) made visible; see ``_VISIBLE``."""
    return text if text.isprintable() else text.translate(_VISIBLE)


def short(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    if value is None:
        return "(absent)"
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    text = visible(text.replace("\n", "⏎"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def age(seconds: float) -> str:
    """'3d', '5h', '12m': how long a finding has been open."""
    s = int(seconds)
    if s >= 86400:
        return f"{s // 86400}d"
    if s >= 3600:
        return f"{s // 3600}h"
    return f"{max(s // 60, 0)}m"


# Kinds whose changes compare two sides; the others show one side's value at a path.
TWO_SIDED = frozenset({"differs", "changed", "permission_gap", "promotion_bypass", "not_backported"})


def side_labels(kind: str, environments: tuple[str, ...]) -> tuple[str, str]:
    """What the left and right values of a finding's changes are: two environments, or code and live."""
    if kind == "changed":
        return ("code", "live")
    left, right = (*environments, "", "")[:2]
    return (left, right)
