"""The promotion ledger: which artifacts each environment held, from when until when.

Derived, not stored: the store keeps every resource version with the scans it was present in
(:meth:`parity.store.Store.resource_history`), so the ledger is those versions' artifacts
(:func:`~parity.promotion.artifacts.artifacts_of`) with their intervals. The scan being run, not stored yet,
is laid over the stored history as one more observation at ``now``: a stored version the current inventory
still holds stays open, one it lacks is closed at ``now``, one it adds is first seen at ``now``.

A *sighting* is one artifact in one slot of one environment, merged over sources (a declared manifest and
the live export of the same workload are one sighting): first seen is the earliest, and it is present while
any source still holds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from parity.compare.types import Inventory
from parity.model import Location, Resource
from parity.normalize.placeholders import Placeholders
from parity.promotion.artifacts import Artifact, artifacts_of, cap_notes
from parity.serialize import content_hash, resource_to_dict
from parity.store.types import VersionSpan


@dataclass(frozen=True)
class Sighting:
    """``artifact`` in ``environment`` (resource ``type``/``key``/``id``), first seen at ``first``; ``last``
    is when it was last seen, None while present."""

    environment: str
    artifact: Artifact
    type: str
    key: str
    id: str
    role: str
    first: dt.datetime
    last: dt.datetime | None
    location: Location | None = None

    @property
    def present(self) -> bool:
        return self.last is None


@dataclass
class Ledger:
    """Every environment's sightings, and when each environment was first observed at all; ``notes``: what
    the scan being run holds that could not be read as an artifact (a wrong shape, an invalid image
    reference), one line each, per environment."""

    now: dt.datetime
    sightings: dict[str, list[Sighting]] = field(default_factory=dict)
    first_observed: dict[str, dt.datetime] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def environments(self) -> list[str]:
        return sorted(self.first_observed)

    def present(self, env: str) -> list[Sighting]:
        return [s for s in self.sightings.get(env, []) if s.present]

    def observed(self, env: str, artifact: Artifact) -> Sighting | None:
        """The earliest sighting in ``env`` of the same artifact: by identity anywhere for images, code, charts
        and modules; within the same slot for configuration values."""
        best: Sighting | None = None
        for s in self.sightings.get(env, []):
            if artifact.kind == "config_value" and s.artifact.slot != artifact.slot:
                continue
            if s.artifact.same_as(artifact) and (best is None or s.first < best.first):
                best = s
        return best

    def in_slot(self, env: str, slot: str, *, present_only: bool = True) -> list[Sighting]:
        return [s for s in self.sightings.get(env, []) if s.artifact.slot == slot and (s.present or not present_only)]

    def resource_seen(self, env: str, slot_resource: str) -> bool:
        """Whether ``env`` ever held a resource whose slots start with ``slot_resource`` (type/key with
        placeholders)."""
        prefix = slot_resource + "#"
        return any(s.artifact.slot.startswith(prefix) for s in self.sightings.get(env, []))


def _merge(raw: Iterable[Sighting]) -> list[Sighting]:
    merged: dict[tuple[str, str], Sighting] = {}
    for s in sorted(raw, key=lambda x: (x.first, x.role != "live")):
        k = (s.artifact.slot, s.artifact.identity)
        cur = merged.get(k)
        if cur is None:
            merged[k] = s
            continue
        last = None if (cur.last is None or s.last is None) else max(cur.last, s.last)
        # keep the earliest first seen; show the live resource when one holds it now
        shown = s if (s.present and s.role == "live" and cur.role != "live") else cur
        merged[k] = replace(shown, first=cur.first, last=last)
    return sorted(merged.values(), key=lambda s: (s.artifact.slot, s.first, s.artifact.identity))


def _sightings(
    env: str,
    r: Resource,
    role: str,
    first: dt.datetime,
    last: dt.datetime | None,
    ph: Placeholders,
    kinds: frozenset[str],
) -> list[Sighting]:
    return [Sighting(env, a, r.type, r.key, r.id, role, first, last, r.location) for a in artifacts_of(r, ph, kinds)]


def build_ledger(
    placeholders: Mapping[str, Placeholders],
    *,
    history: Mapping[str, Sequence[VersionSpan]],
    scans: Mapping[str, Sequence[dt.datetime]],
    current: Mapping[str, Inventory] | None = None,
    now: dt.datetime,
    kinds: frozenset[str],
) -> Ledger:
    """The ledger of every environment in ``placeholders`` from its stored ``history`` (spans) and ``scans``
    (start times), with the ``current`` inventories (the scan being run) laid over them at ``now``."""
    current = current or {}
    ledger = Ledger(now=now)
    for env, ph in placeholders.items():
        raw: list[Sighting] = []
        inv = current.get(env)
        held: dict[tuple[str, str], Resource] = {}  # (source, version hash) -> resource, in the current scan
        roles: dict[str, str] = {}
        notes: list[str] = []
        if inv is not None:
            for snap in inv.snapshots:
                roles[snap.source] = snap.role
                for r in snap.resources:
                    found: list[str] = []
                    if artifacts_of(r, ph, kinds, found):
                        held[(snap.source, content_hash(resource_to_dict(r)))] = r
                    loc = r.location
                    where = "" if loc is None else f"{loc.file}:{loc.line} " if loc.line else f"{loc.file} "
                    notes += [f"{where}{n}" for n in found]
        if notes:
            ledger.notes[env] = cap_notes(notes)
        still_open: set[tuple[str, str]] = set()
        for span in history.get(env, ()):
            last = span.until_time
            if last is None and inv is not None and span.source in roles:
                if (span.source, span.version) in held:
                    still_open.add((span.source, span.version))
                else:
                    last = now  # the scan being run no longer holds it
            raw += _sightings(env, span.resource, span.role, span.from_time, last, ph, kinds)
        for (source, version), r in held.items():
            if (source, version) not in still_open:
                raw += _sightings(env, r, roles[source], now, None, ph, kinds)
        ledger.sightings[env] = _merge(raw)
        times = list(scans.get(env, ()))
        if inv is not None:
            times.append(now)
        if times:
            ledger.first_observed[env] = min(times)
    return ledger
