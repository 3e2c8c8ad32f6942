"""The noise knowledge base: which fields of which resource types are not configuration.

The knowledge is data (``noise.yaml`` beside this module, reviewable and extendable); this module
only loads it, validates it with a clear error, and compiles it per resource type into a small trie
(:class:`RuleNode`) that :mod:`parity.normalize.canonical` and the diff walk alongside the values, so a
rule costs a dict lookup where it applies and nothing elsewhere.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from parity.errors import InputError
from parity.model import Json
from parity.normalize.paths import ANY_ITEM, ANY_KEY, parse_pattern

_LIST_FIELDS = ("volatile", "write_only", "unordered", "instance_specific")
_ENTRY_FIELDS = {"match", "defaults", *_LIST_FIELDS}


@dataclass(eq=False)
class RuleNode:
    """One position in a type's rule trie. ``default`` is a 1-tuple holding the default when there is one."""

    keys: dict[str, RuleNode] = field(default_factory=dict)
    any_key: RuleNode | None = None
    items: RuleNode | None = None
    drop: bool = False
    default: tuple[Json] | None = None
    unordered: bool = False
    _merged: dict[str, RuleNode | None] = field(default_factory=dict)

    def child(self, key: str) -> RuleNode | None:
        """The rules for mapping key ``key`` below this node (exact rules merged with ``*`` rules)."""
        try:
            return self._merged[key]
        except KeyError:
            pass
        exact = self.keys.get(key)
        if exact is None or self.any_key is None:
            got = exact if exact is not None else self.any_key
        else:
            got = _merge(exact, self.any_key)
        self._merged[key] = got
        return got


def _merge(a: RuleNode, b: RuleNode) -> RuleNode:
    out = RuleNode(
        drop=a.drop or b.drop,
        default=a.default if a.default is not None else b.default,
        unordered=a.unordered or b.unordered,
    )
    for k in {*a.keys, *b.keys}:
        x, y = a.keys.get(k), b.keys.get(k)
        out.keys[k] = _merge(x, y) if x is not None and y is not None else (x or y)  # type: ignore[assignment]
    out.any_key = _merge_opt(a.any_key, b.any_key)
    out.items = _merge_opt(a.items, b.items)
    return out


def _merge_opt(a: RuleNode | None, b: RuleNode | None) -> RuleNode | None:
    if a is None or b is None:
        return a or b
    return _merge(a, b)


def _insert(root: RuleNode, parts: tuple[str, ...]) -> RuleNode:
    node = root
    for part in parts:
        if part == ANY_ITEM:
            node.items = node.items or RuleNode()
            node = node.items
        elif part == ANY_KEY:
            node.any_key = node.any_key or RuleNode()
            node = node.any_key
        else:
            node = node.keys.setdefault(part, RuleNode())
    return node


@dataclass(frozen=True)
class NoiseEntry:
    """One validated KB entry: the type globs it applies to and its path patterns."""

    match: tuple[str, ...]
    volatile: tuple[tuple[str, ...], ...] = ()
    write_only: tuple[tuple[str, ...], ...] = ()
    unordered: tuple[tuple[str, ...], ...] = ()
    instance_specific: tuple[tuple[str, ...], ...] = ()
    defaults: tuple[tuple[tuple[str, ...], Json], ...] = ()

    def applies(self, type_: str) -> bool:
        return any(fnmatch.fnmatchcase(type_, g) for g in self.match)


@dataclass(frozen=True)
class TypeRules:
    """The compiled rules for one resource type. A ``None`` trie means "nothing to do"."""

    canonical: RuleNode | None  # volatile, write-only, defaults, unordered
    instance: RuleNode | None  # instance_specific (dropped only between environments)


class NoiseKB:
    """A loaded knowledge base; :meth:`for_type` compiles and caches the rules of a type."""

    def __init__(self, entries: Iterable[NoiseEntry]) -> None:
        self.entries = tuple(entries)
        self._cache: dict[str, TypeRules] = {}

    def for_type(self, type_: str) -> TypeRules:
        got = self._cache.get(type_)
        if got is None:
            got = self._compile(type_)
            self._cache[type_] = got
        return got

    def _compile(self, type_: str) -> TypeRules:
        canon = RuleNode()
        inst = RuleNode()
        has_canon = has_inst = False
        for e in self.entries:
            if not e.applies(type_):
                continue
            for p in (*e.volatile, *e.write_only):
                _insert(canon, p).drop = True
                has_canon = True
            for p in e.unordered:
                _insert(canon, p).unordered = True
                has_canon = True
            for p, value in e.defaults:
                _insert(canon, p).default = (value,)
                has_canon = True
            for p in e.instance_specific:
                _insert(inst, p).drop = True
                has_inst = True
        return TypeRules(canon if has_canon else None, inst if has_inst else None)

    def extended(self, other: NoiseKB) -> NoiseKB:
        """A KB holding this one's entries and then ``other``'s (user additions)."""
        return NoiseKB((*self.entries, *other.entries))


def _fail(file: str, where: str, message: str) -> InputError:
    return InputError(file, f"{where}: {message}")


def _patterns(file: str, where: str, raw: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise _fail(file, where, "must be a list of path patterns (strings)")
    out = []
    for i, p in enumerate(raw):
        try:
            out.append(parse_pattern(p))
        except ValueError as e:
            raise _fail(file, f"{where}[{i}]", str(e)) from None
    return tuple(out)


def parse_kb(data: Any, file: str) -> NoiseKB:
    """Validate a parsed KB document; every error names the file and the entry."""
    if not isinstance(data, Mapping) or set(data) - {"version", "types"}:
        raise _fail(file, "(top level)", "must be a mapping with 'version: 1' and 'types'")
    if data.get("version") != 1:
        raise _fail(file, "version", "must be 1")
    types = data.get("types")
    if not isinstance(types, list):
        raise _fail(file, "types", "must be a list of entries")
    entries = []
    for i, raw in enumerate(types):
        where = f"types[{i}]"
        if not isinstance(raw, Mapping):
            raise _fail(file, where, "must be a mapping")
        unknown = set(raw) - _ENTRY_FIELDS
        if unknown:
            raise _fail(file, where, f"unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_ENTRY_FIELDS))})")
        match = raw.get("match")
        if isinstance(match, str):
            match = [match]
        if not isinstance(match, list) or not match or not all(isinstance(g, str) and g for g in match):
            raise _fail(file, f"{where}.match", "must be a non-empty list of type globs")
        defaults_raw = raw.get("defaults", {})
        if not isinstance(defaults_raw, Mapping):
            raise _fail(file, f"{where}.defaults", "must be a mapping of path pattern -> default value")
        defaults = []
        for p, v in defaults_raw.items():
            if not isinstance(p, str):
                raise _fail(file, f"{where}.defaults", f"key {p!r} is not a path pattern")
            if v is None or isinstance(v, dict | list):
                raise _fail(file, f"{where}.defaults.{p}", "a default must be a scalar (string, number, boolean)")
            try:
                defaults.append((parse_pattern(p), v))
            except ValueError as e:
                raise _fail(file, f"{where}.defaults", str(e)) from None
        lists = {f: _patterns(file, f"{where}.{f}", raw.get(f, [])) for f in _LIST_FIELDS}
        entries.append(
            NoiseEntry(
                match=tuple(match),
                volatile=lists["volatile"],
                write_only=lists["write_only"],
                unordered=lists["unordered"],
                instance_specific=lists["instance_specific"],
                defaults=tuple(defaults),
            )
        )
    return NoiseKB(entries)


def load_kb_text(text: str, file: str) -> NoiseKB:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(
            file, f"invalid YAML: {getattr(e, 'problem', None) or e}", mark.line + 1 if mark else None
        ) from None
    return parse_kb(data, file)


def load_kb_file(path: Path) -> NoiseKB:
    """A user's KB file (to extend the packaged one with :meth:`NoiseKB.extended`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(str(path), f"cannot read: {e.strerror}") from None
    return load_kb_text(text, str(path))


@functools.cache
def default_kb() -> NoiseKB:
    """The packaged ``noise.yaml``, loaded once on first use."""
    ref = resources.files("parity.normalize").joinpath("noise.yaml")
    return load_kb_text(ref.read_text(encoding="utf-8"), "parity/normalize/noise.yaml")
