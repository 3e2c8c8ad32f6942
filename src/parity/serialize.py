"""Model <-> JSON-able dicts. One place, used by the store and by the JSON report.

The finding dict is the ``parity/findings@1`` contract (DESIGN.md section 5): change it only with a
deprecation path.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from parity.model import Attribution, Change, Coverage, CoverageGap, Finding, Location, Resource, Snapshot, Suppressed

FINDINGS_SCHEMA = "parity/findings@1"


_SORT = orjson.OPT_SORT_KEYS
_NON_STR = orjson.OPT_NON_STR_KEYS


def json_bytes(value: Any, sort_keys: bool = False) -> bytes:
    """``orjson.dumps(value, option=OPT_NON_STR_KEYS [| OPT_SORT_KEYS])``, the same bytes, faster.

    orjson writes a mapping a third slower when it may hold keys that are not strings
    (``OPT_NON_STR_KEYS``: YAML's ``1:`` or ``true:``), and parity's values almost never do: the plain
    call first, the general one only when it refuses (a ``TypeError``, as for any key that is not a str).
    """
    try:
        return orjson.dumps(value, option=_SORT if sort_keys else 0)
    except TypeError:
        return orjson.dumps(value, option=(_SORT | _NON_STR) if sort_keys else _NON_STR)


def canonical_json(value: Any) -> bytes:
    """Deterministic bytes: sorted keys, no whitespace. Used for content addresses."""
    return json_bytes(value, sort_keys=True)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _loc(loc: Location | None) -> dict[str, Any] | None:
    return None if loc is None else {"file": loc.file, "line": loc.line}


def _loc_from(d: dict[str, Any] | None) -> Location | None:
    return None if d is None else Location(d["file"], d.get("line"))


def resource_to_dict(r: Resource) -> dict[str, Any]:
    return {
        "type": r.type,
        "id": r.id,
        "key": r.key,
        "attributes": r.attributes,
        "tags": r.tags,
        "origin": r.origin,
        "owner": r.owner,
        "name": r.name,
        "address": r.address,
        "location": _loc(r.location),
    }


def resource_from_dict(d: dict[str, Any]) -> Resource:
    return Resource(
        type=d["type"],
        id=d["id"],
        key=d["key"],
        attributes=d.get("attributes") or {},
        tags=d.get("tags") or {},
        origin=d.get("origin", ""),
        owner=d.get("owner", "none"),
        name=d.get("name"),
        address=d.get("address"),
        location=_loc_from(d.get("location")),
    )


def coverage_to_dict(c: Coverage) -> dict[str, Any]:
    return {
        "listed": list(c.listed),
        "gaps": [{"scope": g.scope, "reason": g.reason, "type": g.type, "kind": g.kind} for g in c.gaps],
    }


def coverage_from_dict(d: dict[str, Any]) -> Coverage:
    return Coverage(
        listed=tuple(d.get("listed", ())),
        gaps=tuple(
            CoverageGap(g["scope"], g["reason"], g.get("type"), g.get("kind", "failed")) for g in d.get("gaps", ())
        ),
    )


def snapshot_meta(s: Snapshot) -> dict[str, Any]:
    """A snapshot without its resources (those are stored content-addressed)."""
    return {
        "environment": s.environment,
        "source": s.source,
        "kind": s.kind,
        "role": s.role,
        "collected_at": s.collected_at.isoformat(),
        "coverage": coverage_to_dict(s.coverage),
        "facts": {k: list(v) for k, v in s.facts.items()},
    }


def snapshot_from(meta: dict[str, Any], resources: tuple[Resource, ...]) -> Snapshot:
    return Snapshot(
        environment=meta["environment"],
        source=meta["source"],
        kind=meta["kind"],
        role=meta["role"],
        collected_at=datetime.fromisoformat(meta["collected_at"]),
        resources=resources,
        coverage=coverage_from_dict(meta.get("coverage", {})),
        facts={k: tuple(v) for k, v in meta.get("facts", {}).items()},
    )


def change_to_dict(c: Change) -> dict[str, Any]:
    return {"path": c.path, "left": c.left, "right": c.right}


def _suppressed_to_dict(s: Suppressed) -> dict[str, Any]:
    d: dict[str, Any] = {"rule": s.rule, "reason": s.reason}
    if s.change is not None:
        d.update(change_to_dict(s.change))
    if s.owner is not None:
        d["owner"] = s.owner
    if s.expires is not None:
        d["expires"] = s.expires
    return d


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """The ``parity/findings@1`` shape of one finding."""
    return {
        "id": f.id,
        "kind": f.kind,
        "severity": f.severity,
        "type": f.type,
        "key": f.key,
        "environments": list(f.environments),
        "resources": dict(f.resources),
        "changes": [change_to_dict(c) for c in f.changes],
        "message": f.message,
        "status": f.status,
        "expected": [_suppressed_to_dict(s) for s in f.suppressed if s.rule == "expected"],
        "notes": list(f.notes),
        "location": _loc(f.location),
        "detail": f.detail,
        "first_seen": _iso(f.first_seen),
        "last_seen": _iso(f.last_seen),
        "attribution": attribution_to_dict(f.attribution),
    }


def attribution_to_dict(a: Attribution | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "principal": a.principal,
        "user": a.user,
        "role": a.role,
        "event": a.event,
        "time": a.time.isoformat(),
        "via": a.via,
        "source_ip": a.source_ip,
        "user_agent": a.user_agent,
        "event_id": a.event_id,
        "deploy_role": a.deploy_role,
        "out_of_band": a.out_of_band,
    }


def attribution_from_dict(d: dict[str, Any] | None) -> Attribution | None:
    if not d:
        return None
    return Attribution(
        principal=d["principal"],
        event=d["event"],
        time=datetime.fromisoformat(d["time"]),
        via=d["via"],
        user=d.get("user", ""),
        role=d.get("role", ""),
        source_ip=d.get("source_ip", ""),
        user_agent=d.get("user_agent", ""),
        event_id=d.get("event_id", ""),
        deploy_role=bool(d.get("deploy_role", False)),
        out_of_band=d.get("out_of_band"),
    )


def finding_from_dict(d: dict[str, Any]) -> Finding:
    sup = tuple(
        Suppressed(
            rule=s["rule"],
            reason=s["reason"],
            change=Change(s["path"], s.get("left"), s.get("right")) if "path" in s else None,
            owner=s.get("owner"),
            expires=s.get("expires"),
        )
        for s in d.get("expected", ())
    )
    return Finding(
        kind=d["kind"],
        severity=d["severity"],
        type=d["type"],
        key=d["key"],
        environments=tuple(d["environments"]),
        resources=d.get("resources", {}),
        message=d["message"],
        changes=tuple(Change(c["path"], c.get("left"), c.get("right")) for c in d.get("changes", ())),
        suppressed=sup,
        location=_loc_from(d.get("location")),
        status=d.get("status", "new"),
        detail=d.get("detail", ""),
        first_seen=datetime.fromisoformat(d["first_seen"]) if d.get("first_seen") else None,
        last_seen=datetime.fromisoformat(d["last_seen"]) if d.get("last_seen") else None,
        notes=tuple(d.get("notes", ())),
        attribution=attribution_from_dict(d.get("attribution")),
    )
