"""YAML and JSON reading shared by the declared sources: JSON-like output, file:line errors.

PyYAML's safe loader is used with these changes, all so that what comes out is plain JSON-like data
that the store and the diff engine can handle and that is the same on both sides of a comparison:

- timestamps, ``!!binary`` and YAML 1.1 base-60 numbers (``1:30``) stay the strings they were written as
  (no ``datetime``/``bytes``; ``22:22`` is not 1342);
- unknown tags (CloudFormation ``!Ref``, Ansible ``!vault``) become ``{"!Tag": value}`` instead of an error;
- the result is copied into fresh dicts/lists with string keys, refusing alias cycles and alias
  "billion laughs" expansion past :data:`MAX_NODES` values; an integer past 64 bits becomes its decimal
  string (:func:`parity.model.json_int`).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from typing import Any

import yaml

from parity.errors import InputError
from parity.model import MAX_DEPTH, Json, json_int
from parity.sources.files import line_col

# Values one file may expand to once YAML aliases are resolved; far above any real config.
MAX_NODES = 2_000_000

_MERGE = "tag:yaml.org,2002:merge"
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_Base):  # type: ignore[misc]
    """Safe loader that keeps timestamps and binary as strings and tolerates unknown tags, and remembers the
    node it is constructing: PyYAML's constructors raise ValueError or KeyError, without a position, for a
    value its tag cannot hold (as parity.config's loader does for parity.yaml)."""

    current: yaml.Node | None = None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        self.current = node
        return super().construct_object(node, deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        """PyYAML keeps the last of two equal keys silently (``a`` twice, or ``1`` and ``true``, equal as
        Python keys), hiding a value the file sets; kubectl and Helm refuse such files. Keys a ``<<`` merge
        brings in may be overridden, so only the mapping's own keys are checked."""
        own = [k for k, _ in node.value if k.tag != _MERGE] if isinstance(node, yaml.MappingNode) else []
        merges = len(own) != len(node.value)
        out = super().construct_mapping(node, deep)
        if merges or len(out) < len(own):
            seen: dict[Any, yaml.Node] = {}
            for k in own:
                key = self.construct_object(k)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: PyYAML has refused it already
                if first is not None:
                    said = f"key {_key(key)!r} is set twice in one mapping (first on line {first.start_mark.line + 1})"
                    raise yaml.constructor.ConstructorError(None, None, said, k.start_mark)
                seen[key] = k
        return out


def _as_string(loader: Any, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)


def _unknown_tag(loader: Any, tag_suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    return {node.tag: value}


def _number(loader: Any, node: yaml.ScalarNode) -> Any:
    """YAML 1.1's base-60 numbers (``22:22`` reads as 1342, ``1:30`` as 90, equal to a plain ``90``) stay the
    text they were written as, as YAML 1.2 readers (docker compose, Helm, Go) keep them."""
    text = loader.construct_scalar(node)
    if isinstance(text, str) and ":" in text:
        return text
    if node.tag.endswith(":int"):
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    return yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)


Loader.add_constructor("tag:yaml.org,2002:int", _number)
Loader.add_constructor("tag:yaml.org,2002:float", _number)
Loader.add_constructor("tag:yaml.org,2002:timestamp", _as_string)
Loader.add_constructor("tag:yaml.org,2002:binary", _as_string)
Loader.add_multi_constructor("", _unknown_tag)


def _key(k: Any) -> str:
    if isinstance(k, str):
        return k
    if isinstance(k, bool):
        return "true" if k else "false"
    if k is None:
        return "null"
    return str(k)


def _unicode(s: str, shown: str, line: int | None) -> str:
    """``s``, or InputError when it holds a lone surrogate (JSON's ``\\ud800`` escape parses to one): no
    Unicode text, so neither storable nor comparable."""
    if not s.isascii():
        try:
            s.encode()
        except UnicodeEncodeError as e:
            bad = s[e.start]
            raise InputError(
                shown, f"a string holds \\u{ord(bad):04x}, a lone surrogate: not valid Unicode", line
            ) from None
    return s


def plain(value: Any, shown: str, line: int | None = None) -> Json:
    """A fresh JSON-like copy of parsed data (string keys, lists, no NaN), or InputError."""
    budget = [MAX_NODES]
    active: set[int] = set()

    def walk(v: Any, depth: int = 0) -> Json:
        budget[0] -= 1
        if budget[0] < 0:
            raise InputError(shown, f"expands to more than {MAX_NODES:,} values (YAML aliases?)", line)
        if isinstance(v, str):
            return v if v.isascii() else _unicode(v, shown, line)
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            return json_int(v)
        if isinstance(v, float):
            if math.isnan(v):
                return "NaN"
            if math.isinf(v):
                return "Infinity" if v > 0 else "-Infinity"
            return v
        if isinstance(v, bytes):
            return base64.b64encode(v).decode()
        if isinstance(v, dict | list | tuple | set):
            if depth >= MAX_DEPTH:
                raise InputError(shown, f"nested more than {MAX_DEPTH} levels deep (parity reads at most that)", line)
            if id(v) in active:
                raise InputError(shown, "a YAML alias refers to itself (recursive structure)", line)
            active.add(id(v))
            try:
                if isinstance(v, dict):
                    out: dict[str, Json] = {}
                    for k, x in v.items():
                        key = _unicode(_key(k), shown, line)
                        if key in out:  # 1 and "1", or true and "true": one would silently hide the other
                            raise InputError(shown, f"two keys of one mapping both read as {key!r}", line)
                        out[key] = walk(x, depth + 1)
                    return out
                items = sorted(v, key=repr) if isinstance(v, set) else v
                return [walk(x, depth + 1) for x in items]
            finally:
                active.discard(id(v))
        return str(v)  # dates from other loaders, and anything else exotic

    return walk(value)


def _mark_line(e: yaml.YAMLError, text: str) -> tuple[int | None, int | None]:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if mark is not None:
        return mark.line + 1, mark.column + 1
    pos = getattr(e, "position", None)  # ReaderError: a character YAML does not allow
    if isinstance(pos, int):
        return line_col(text, min(pos, len(text)))
    return None, None


def _yaml_message(e: yaml.YAMLError) -> str:
    problem = getattr(e, "problem", None)
    context = getattr(e, "context", None)
    if problem:
        return f"invalid YAML: {context + ', ' if context else ''}{problem}"
    return f"invalid YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}"


def _constructor_message(e: Exception) -> str:
    if isinstance(e, KeyError):
        return f"{e.args[0]!r} is not a value of its tag"
    return f"a value its tag cannot hold ({e})"


def yaml_documents(text: str, shown: str) -> Iterator[tuple[int, Json]]:
    """Each non-empty YAML document as ``(line of its first content, JSON-like data)``."""
    try:
        loader = Loader(text)
    except UnicodeError:  # lone surrogates: not from a file (read_text decodes UTF-8), but be total
        raise InputError(shown, "invalid YAML: not valid Unicode text") from None
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
                if node is None:
                    continue
                line = node.start_mark.line + 1
                data = loader.construct_document(node)
            except yaml.YAMLError as e:
                ln, col = _mark_line(e, text)
                raise InputError(shown, _yaml_message(e), ln, col) from None
            except RecursionError:
                raise InputError(shown, "invalid YAML: nested too deeply") from None
            except (ValueError, KeyError, TypeError, OverflowError) as e:
                # PyYAML's constructors raise these, not YAMLError, for a value its explicit tag cannot
                # hold (`!!int abc`, `!!bool maybe`) or a date that does not exist (2026-02-30)
                at = loader.current.start_mark if loader.current is not None else None
                ln, col = (at.line + 1, at.column + 1) if at is not None else (None, None)
                raise InputError(shown, f"invalid YAML: {_constructor_message(e)}", ln, col) from None
            if data is None:
                continue  # an empty document, e.g. between two '---' or a comment-only one
            yield line, plain(data, shown, line)
    finally:
        loader.dispose()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


def _duplicate_key_line(text: str, key: str) -> int | None:
    """The line of the second ``"key":`` among the members of one JSON object (depth-aware scan)."""
    stack: list[set[str]] = []  # keys seen in each open object or array (an array adds none)
    kinds: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            after = end + 1
            while after < n and text[after] in " \t\r\n":
                after += 1
            if kinds and kinds[-1] == "{" and after < n and text[after] == ":":
                try:
                    name = json.loads(text[i : end + 1])
                except ValueError:
                    name = None
                if name == key and name in stack[-1]:
                    return text.count("\n", 0, i) + 1
                if isinstance(name, str):
                    stack[-1].add(name)
            i = end + 1
            continue
        if ch in "{[":
            kinds.append(ch)
            stack.append(set())
        elif ch in "}]" and kinds:
            kinds.pop()
            stack.pop()
        i += 1
    return None


def json_document(text: str, shown: str, *, unique_keys: bool = False) -> Json:
    """The JSON value in ``text``, or InputError with line and column.

    ``unique_keys``: a key set twice in one object is an error naming its line (Python's and orjson's
    readers keep the last silently, hiding the value the file sets first)."""
    try:
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_pairs if unique_keys else None)
    except _DuplicateKey as e:
        said = f"key {e.key!r} is set twice in one object"
        raise InputError(shown, said, _duplicate_key_line(text, e.key)) from None
    except json.JSONDecodeError as e:
        raise InputError(shown, f"invalid JSON: {e.msg}", e.lineno, e.colno) from None
    except ValueError as e:
        raise InputError(shown, f"invalid JSON: {e}") from None
    except RecursionError:
        raise InputError(shown, "invalid JSON: nested too deeply") from None
    return plain(data, shown, 1)
