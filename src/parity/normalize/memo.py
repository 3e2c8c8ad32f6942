"""Canonical forms by raw content, kept from one scan to the next in a long-running process.

Canonicalisation is a Python walk over every node of every resource (about three times the cost of parsing
the same JSON), and between two scans of one environment almost every resource arrives exactly as before.
:class:`CanonicalMemo` keys each resource by ``sha256`` of the whole raw resource as serialised (type,
ids, tags, location, attributes; one ``orjson.dumps`` per batch) and hands back the canonical resource
computed last time, the same immutable object, so later steps can recognise it too; only new or changed
content is walked. Equal key means equal input to a deterministic function, so the result is the one
:func:`parity.normalize.canonical_resource` would return.

Bounded by generations: :meth:`CanonicalMemo.rotate` (called before each scan that uses the memo) turns
what the previous scan used into the old generation; an entry the next scan does not use is dropped with
it. So the memo holds about one scan's canonical inventory. Nothing is persisted.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from parity.gcpause import paused_gc
from parity.model import Resource, Snapshot
from parity.normalize.canonical import canonical_resource
from parity.normalize.noise import NoiseKB, default_kb
from parity.normalize.placeholders import serialize_records


@dataclass
class CanonicalMemo:
    """Canonical resources by the digest of the raw resource; see the module docstring."""

    kb: NoiseKB = field(default_factory=default_kb)
    hits: int = 0
    misses: int = 0
    _cur: dict[bytes, Resource] = field(default_factory=dict)
    _old: dict[bytes, Resource] = field(default_factory=dict)

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
        try:
            records = serialize_records([_record(r) for r in resources])
        except TypeError:  # a value orjson cannot write (never from the bundled sources): no memo
            return tuple(canonical_resource(r, self.kb) for r in resources)
        cur, old, kb = self._cur, self._old, self.kb
        out: list[Resource] = []
        for r, record in zip(resources, records, strict=True):
            key = hashlib.sha256(record).digest()
            got = cur.get(key)
            if got is None and (got := old.pop(key, None)) is not None:
                cur[key] = got
            if got is None:
                self.misses += 1
                got = cur[key] = canonical_resource(r, kb)
            else:
                self.hits += 1
            out.append(got)
        return tuple(out)


def _record(r: Resource) -> dict[str, Any]:
    """Everything a canonical resource is made of (its canonical form is a function of exactly this)."""
    return {
        "a": r.attributes if type(r.attributes) is dict else dict(r.attributes),
        "i": [r.type, r.id, r.key, r.origin, r.owner, r.name, r.address],
        "l": r.location,
        "t": r.tags if type(r.tags) is dict else dict(r.tags),
    }
