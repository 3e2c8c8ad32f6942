"""Short, safe text for values in human formats (JSON output keeps values whole)."""

from __future__ import annotations

from typing import Any

import orjson

MAX_VALUE_CHARS = 80


def short(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    if value is None:
        return "(absent)"
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    text = text.replace("\n", "⏎")
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
