"""Canonical forms by raw content, kept from one scan to the next in a long-running process.

Canonicalisation is a Python walk over every node of every resource (about three times the cost of parsing
the same JSON), and between two scans of one environment almost every resource arrives exactly as before.
:class:`CanonicalMemo` keys each resource by its type and ``sha256`` of its raw attributes as serialised
(one ``orjson.dumps`` per batch), and hands back the canonical attributes computed last time; only new or
changed content is walked. Equal key means equal input to a deterministic function, so the result is the
one :func:`parity.normalize.canonical_attributes` would return.

Bounded by generations: :meth:`CanonicalMemo.rotate` (called before each scan that uses the memo) turns
what the previous scan used into the old generation; an entry the next scan does not use is dropped with
it. So the memo holds about one scan's canonical inventory. Nothing is persisted.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from parity.model import Json, Resource, Snapshot
from parity.normalize.canonical import canonical_attributes, with_attributes
from parity.normalize.gcpause import paused_gc
from parity.normalize.noise import NoiseKB, default_kb
from parity.normalize.placeholders import serialize_records

_Key = tuple[str, bytes]


@dataclass
class CanonicalMemo:
    """Canonical attributes by (type, digest of the raw attributes); see the module docstring."""

    kb: NoiseKB = field(default_factory=default_kb)
    hits: int = 0
    misses: int = 0
    _cur: dict[_Key, Any] = field(default_factory=dict)
    _old: dict[_Key, Any] = field(default_factory=dict)

    def rotate(self) -> None:
        """Start a new generation: entries the coming scan does not use are dropped at the next rotation."""
        self._old = self._cur
        self._cur = {}

    def __len__(self) -> int:
        return len(self._cur) + len(self._old)

    def canonicalize(self, snapshot: Snapshot) -> Snapshot:
        """``canonicalize(snapshot, self.kb)``, walking only resources whose raw content is new."""
        with paused_gc():
            return dataclasses.replace(snapshot, resources=self._resources(snapshot.resources))

    def _resources(self, resources: tuple[Resource, ...]) -> tuple[Resource, ...]:
        raws = [r.attributes if type(r.attributes) is dict else dict(r.attributes) for r in resources]
        try:
            records = serialize_records(raws)
        except TypeError:  # a value orjson cannot write (never from the bundled sources): no memo
            records = None
        cur, old, kb = self._cur, self._old, self.kb
        out: list[Resource] = []
        for i, r in enumerate(resources):
            attrs: dict[str, Json] | None = None
            key: _Key | None = None
            if records is not None:
                key = (r.type, hashlib.sha256(records[i]).digest())
                attrs = cur.get(key)
                if attrs is None and (attrs := old.pop(key, None)) is not None:
                    cur[key] = attrs
            if attrs is None:
                self.misses += 1
                attrs = canonical_attributes(r.type, raws[i], kb)
                if key is not None:
                    cur[key] = attrs
            else:
                self.hits += 1
            out.append(r if attrs is r.attributes else with_attributes(r, attrs))
        return tuple(out)
