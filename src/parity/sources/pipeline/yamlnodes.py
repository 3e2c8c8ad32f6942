"""CI definitions as plain data that remembers lines: every mapping and list knows where it was written.

Workflow files are read with PyYAML's safe composer (anchors and aliases resolved into shared nodes),
then turned into data by :func:`load` here rather than by PyYAML's constructor, so that:

- every mapping is an :class:`LMap` (a ``dict``) with ``line`` and ``key_lines``, every list an
  :class:`LList` with ``line`` and ``item_lines``: jobs and steps point at their file line;
- mapping keys are their text as written: ``on:`` stays ``"on"`` (YAML 1.1 would read ``True``);
- ``<<`` merge keys are applied (explicit keys win; earlier sources in ``<<: [*a, *b]`` win);
- GitLab's ``!reference [job, key]`` becomes a :class:`Reference` for :mod:`.gitlab` to resolve; other
  unknown tags are read as the plain value under them;
- an alias expansion past :data:`MAX_VALUES` values or an alias cycle is an InputError, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from parity.errors import InputError
from parity.model import json_int

MAX_VALUES = 500_000
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_PLAIN_SCALARS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
_Composer: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LMap(dict[str, Any]):
    """A mapping with the line it starts on and the line of each key."""

    line: int = 0
    file: str = ""
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line) if hasattr(self, "key_lines") else self.line


class LList(list[Any]):
    """A list with the line it starts on and the line of each item."""

    line: int = 0
    file: str = ""
    item_lines: list[int]

    def line_at(self, i: int) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[i] if 0 <= i < len(lines) else self.line


@dataclass(frozen=True)
class Reference:
    """GitLab ``!reference [.job, key, ...]``: the value at that path in the merged configuration."""

    path: tuple[str, ...]
    line: int
    file: str = ""  # the file it is written in, as shown


def lmap(line: int, file: str) -> LMap:
    """An empty :class:`LMap` placed at ``file:line``."""
    m = LMap()
    m.line, m.file, m.key_lines = line, file, {}
    return m


def llist(line: int, file: str) -> LList:
    """An empty :class:`LList` placed at ``file:line``."""
    out = LList()
    out.line, out.file, out.item_lines = line, file, []
    return out


class _Builder:
    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.budget = MAX_VALUES
        self.active: set[int] = set()
        self.scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise InputError(self.shown, f"expands to more than {MAX_VALUES:,} values (YAML aliases?)")
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise InputError(self.shown, "a YAML alias refers to itself (recursive structure)", line)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = llist(line, self.shown)
                for item in node.value:
                    items.append(self.build(item))
                    items.item_lines.append(item.start_mark.line + 1)
                if node.tag == "!reference":
                    return Reference(tuple(str(x) for x in items), line, self.shown)
                return items
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, line)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag in _PLAIN_SCALARS:
            return self.scalars.construct_object(node, deep=True)
        return str(node.value)  # strings, timestamps, binary and unknown tags stay the text written

    def mapping(self, node: yaml.MappingNode, line: int) -> LMap:
        out = lmap(line, self.shown)
        merged: list[LMap] = []
        for k, v in node.value:
            if k.tag == _MERGE:
                sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
                for src in sources:
                    value = self.build(src)
                    if not isinstance(value, LMap):
                        raise InputError(self.shown, "a '<<' merge key must name a mapping", k.start_mark.line + 1)
                    merged.append(value)
                continue
            if not isinstance(k, yaml.ScalarNode):
                raise InputError(self.shown, "a mapping key must be a plain value", k.start_mark.line + 1)
            key = str(k.value) if k.value is not None else "null"
            out[key] = self.build(v)
            out.key_lines[key] = k.start_mark.line + 1
        for src in merged:  # explicit keys first, then earlier merge sources before later ones
            for key, value in src.items():
                if key not in out:
                    out[key] = value
                    out.key_lines[key] = src.line_of(key)
        return out


def _where(e: yaml.YAMLError) -> tuple[int | None, int | None]:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if mark is not None:
        return mark.line + 1, mark.column + 1
    return None, None


def load(text: str, shown: str) -> Any:
    """The single YAML document in ``text`` as line-aware data (None when empty), or InputError."""
    try:
        node = yaml.compose(text, Loader=_Composer)
    except yaml.YAMLError as e:
        line, col = _where(e)
        problem = getattr(e, "problem", None)
        context = getattr(e, "context", None)
        msg = f"{context + ', ' if context else ''}{problem}" if problem else str(e).splitlines()[0]
        raise InputError(shown, f"invalid YAML: {msg}", line, col) from None
    except (UnicodeError, ValueError):
        raise InputError(shown, "invalid YAML: not valid Unicode text") from None
    except RecursionError:
        raise InputError(shown, "invalid YAML: nested too deeply") from None
    if node is None:
        return None
    try:
        return _Builder(shown).build(node)
    except RecursionError:
        raise InputError(shown, "invalid YAML: nested too deeply") from None
    except yaml.YAMLError as e:  # a scalar that its tag cannot hold (e.g. a bad !!int)
        line, col = _where(e)
        raise InputError(shown, f"invalid YAML: {getattr(e, 'problem', None) or e}", line, col) from None


def plain(value: Any) -> Any:
    """A fresh copy with plain dicts and lists (for attributes: no line bookkeeping inside)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Reference):
        return "!reference " + str(list(value.path))
    if isinstance(value, float) and value != value:
        return "NaN"
    if type(value) is int:
        return json_int(value)
    return value
