"""Reading a big JSON document one item at a time: each item of its top-level array (or of the array one of
its members holds) parsed by itself, so a reader can turn each into its final form before the next is parsed.

Why: parsing a 140 MB inventory whole and then canonicalising it builds every raw object first, walks them
again once they have left the cache, and frees them last. Parsed and canonicalised item by item, the raw
objects of an item are walked while still in the cache and freed before the next item reuses their memory:
about a third less time for reading and canonicalising, and a lower peak (docs/benchmarks.md, run L).

The split is found by a compiled scan (``spans`` in ``parity.normalize._cwalk``) that follows strings and
brackets only; everything else about each item is checked by orjson parsing it. The scan accepts exactly the
documents that are ``[ item , item ... ]`` with whitespace around; so when every item parses, the whole
document parses to the same list, and when one does not, the whole document is parsed to raise orjson's own
error at its place in the document. A document nested deeper than orjson reads is never split (orjson
refuses it whole). Where the compiled part is missing, or the document is not a plain array (or object),
``None`` tells the caller to parse it whole as before.

Why not a library: orjson has no streaming parser; ijson, the maintained streaming reader, builds each item
with its own parser rather than orjson's (which the rest of parity uses, and the budget is measured
against), and the scan needed here is a short loop in C beside the other compiled loops.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

import orjson

from parity.normalize.native import compiled

__all__ = ["array_items", "member_spans"]


def _offsets(raw: bytes) -> array[int]:
    got = array("q")
    got.frombytes(raw)
    return got


def array_items(data: bytes, level: int = 1, start: int = 0, end: int | None = None) -> Iterator[Any] | None:
    """The items of the JSON array ``data[start:end]``, each parsed by itself, in order; None when it cannot
    be split (see the module docstring: the caller then parses it whole). ``level`` is how deep the array
    stands in its document (1: the document is the array), so that nesting is limited as orjson limits it.

    An item that does not parse raises :class:`orjson.JSONDecodeError` at its place in ``data`` (the whole
    document is parsed for it, so the message and position are orjson's own)."""
    native = compiled()
    if native is None:
        return None
    view = memoryview(data)[start:end]
    raw = native.spans(view, "[", level)
    if raw is None:
        return None
    return _items(data, view, _offsets(raw), start)


def _items(data: bytes, view: memoryview, spans: array[int], start: int) -> Iterator[Any]:
    loads = orjson.loads
    for k in range(0, len(spans), 2):
        try:
            item = loads(view[spans[k] : spans[k + 1]])
        except orjson.JSONDecodeError as e:
            orjson.loads(data)  # raises the error at its place in the document
            # not reached for JSON orjson reads whole (the split accepts nothing more), kept as a guard
            raise orjson.JSONDecodeError(e.msg, data.decode("utf-8", "replace"), start + spans[k] + e.pos) from None
        yield item


def member_spans(data: bytes) -> list[tuple[bytes, int, int]] | None:
    """The members of the JSON object ``data``: each key as written (quotes and escapes included) with the
    start and end of its value; None when it cannot be split (see the module docstring)."""
    native = compiled()
    if native is None:
        return None
    raw = native.spans(data, "{", 1)
    if raw is None:
        return None
    s = _offsets(raw)
    return [(data[s[k] : s[k + 1]], s[k + 2], s[k + 3]) for k in range(0, len(s), 4)]
