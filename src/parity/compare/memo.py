"""What one comparison learnt about resource content, kept for the next comparison in the same process.

Continuous reconciliation (``parity watch``) compares the same mirrors every few minutes, and between two
scans almost nothing changes. The costly step of comparing a pair is placeholder substitution over the
serialised comparable value (:meth:`parity.normalize.placeholders.Placeholders.sub_serialized`); its result
depends only on those bytes and on the side's placeholder profile (tokens, own and foreign accounts). The
memo maps, per profile, ``sha256(comparable bytes)`` to ``sha256(substituted bytes)``: a resource whose
comparable value did not change since the last comparison costs one hash and one lookup, and two sides whose
substituted digests are equal are equal resources.

Bounded: per profile it keeps what the last comparisons used (a table grown past twice the entries one
comparison needed is cut back to those), and at most ``max_profiles`` profiles (least recently used first
out). Nothing is persisted: a digest learnt by another process or another version of the code is never
trusted.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from parity.model import Json, Resource
from parity.normalize.placeholders import Placeholders, serialize_records

_SLACK = 10_000  # entries a table may hold beyond twice one comparison's before it is cut back


@dataclass
class ComparisonMemo:
    """Substituted-content digests by content digest, per placeholder profile (see the module docstring)."""

    max_profiles: int = 32
    hits: int = 0
    misses: int = 0
    _tables: dict[Hashable, dict[bytes, bytes]] = field(default_factory=dict)
    _objects: dict[Hashable, dict[int, tuple[weakref.ref[Resource], bytes]]] = field(default_factory=dict)

    def digests(self, ph: Placeholders, records: Sequence[bytes]) -> list[bytes]:
        """``[sha256(ph.sub_bytes(r)) for r in records]``, substituting only what this memo has not seen."""
        profile = ph.profile
        table = self._tables.pop(profile, None)
        if table is None:
            table = {}
            while len(self._tables) >= self.max_profiles:
                del self._tables[next(iter(self._tables))]
        self._tables[profile] = table  # most recently used last
        sha256 = hashlib.sha256
        keys = [sha256(r).digest() for r in records]
        get = table.get
        out = [get(k) for k in keys]
        missing = [i for i, d in enumerate(out) if d is None]
        if missing:
            subs = ph.sub_serialized([records[i] for i in missing])
            for i, s in zip(missing, subs, strict=True):
                table[keys[i]] = out[i] = sha256(s).digest()
        self.misses += len(missing)
        self.hits += len(records) - len(missing)
        if len(table) > 2 * len(keys) + _SLACK:  # keep what this comparison used, drop the rest
            self._tables[profile] = {k: table[k] for k in keys}
        return out  # type: ignore[return-value]  # every entry is filled above

    def resource_digests(
        self,
        ph: Placeholders,
        resources: Sequence[Resource],
        comparables: Callable[[list[Resource]], list[dict[str, Json]]],
    ) -> list[bytes]:
        """:meth:`digests` of ``comparables(resources)`` serialised, where a resource object this memo saw in
        the previous comparison under this profile is answered without serialising it again (canonical
        resources are immutable, and :class:`parity.normalize.CanonicalMemo` hands back the same object
        for unchanged content)."""
        seen = self._objects.pop(ph.profile, None)
        out: list[bytes | None] = []
        todo: list[int] = []
        if seen:
            for i, r in enumerate(resources):
                got = seen.get(id(r))
                if got is not None and got[0]() is r:
                    out.append(got[1])
                else:
                    out.append(None)
                    todo.append(i)
        else:
            out = [None] * len(resources)
            todo = list(range(len(resources)))
        if todo:
            records = serialize_records(comparables([resources[i] for i in todo]))
            for i, d in zip(todo, self.digests(ph, records), strict=True):
                out[i] = d
        hits = len(resources) - len(todo)
        self.hits += hits
        if hits or seen is None:
            # What this comparison used, by object. Weakly: a resource nobody else keeps must not be kept
            # alive by the memo; a dead reference never matches again. Not recorded after a comparison that
            # had a record and found nothing in it (resources rebuilt from the store for each comparison):
            # the next one then skips the lookups, and records again.
            self._objects[ph.profile] = {id(r): (weakref.ref(r), d) for r, d in zip(resources, out, strict=True)}  # type: ignore[misc]
            while len(self._objects) > self.max_profiles:
                del self._objects[next(iter(self._objects))]
        return out  # type: ignore[return-value]  # every entry is filled above

    def __len__(self) -> int:
        return sum(len(t) for t in self._tables.values())
