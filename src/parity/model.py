"""The plain data that flows through the pipeline: no I/O, no behaviour beyond small derived values.

sources -> Snapshot (Resources + Coverage) -> normalize -> store -> compare -> Finding -> report
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import unquote

import orjson
from typing_extensions import dataclass_transform

_T = TypeVar("_T")

# JSON-like attribute values: what sources produce and what the store keeps.
Json = Any

# Integers orjson writes (the store's and the comparison's serialiser): signed and unsigned 64-bit.
_INT_MIN, _INT_END = -(2**63), 2**64


# The deepest nesting parity reads and compares. orjson, which stores, hashes and compares every value,
# writes at most 255 levels, and the store and the reports wrap a resource's attributes a few levels
# deeper; real inputs stay far below (Kubernetes CRDs reach ~30). Deeper input is a clear InputError.
MAX_DEPTH = 200


def json_in_text(s: str) -> Json:
    """The JSON object or array a string holds, or None: a string whose first character is ``{`` or ``[``
    (trailing whitespace allowed: Terraform heredocs end in a newline), or a URL-encoded object (``%7B...``,
    as IAM's API returns policy documents). Canonicalisation compares such strings as the structure they
    hold, so redaction must look inside exactly the same ones."""
    text = unquote(s) if s[:3] in ("%7B", "%7b") else s
    text = text.rstrip()
    if text[:1] not in ("{", "[") or text[-1:] not in ("}", "]"):
        return None
    try:
        got = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return got if isinstance(got, dict | list) else None


def json_int(v: int) -> int | str:
    """``v``, or its decimal string when it is past 64 bits: sources parsing YAML, JSON or HCL with Python
    (which reads any size) keep such a number as text so that it can be stored and compared."""
    return v if _INT_MIN <= v < _INT_END else str(v)


Role = Literal["live", "declared"]

Owner = Literal["terraform", "cloudformation", "helm", "kubernetes", "aws-managed", "config", "none"]

FindingKind = Literal[
    "only_in",
    "differs",
    "unmanaged",
    "missing",
    "changed",
    "permission_gap",
    "elevated_grant",
    "promotion_bypass",
    "not_backported",
    "cross_env_reference",
    "policy_violation",
]
FINDING_KINDS: tuple[str, ...] = FindingKind.__args__  # type: ignore[attr-defined]

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

Status = Literal["new", "open", "accepted", "resolved", "recurring"]

# The marker that replaces a secret-looking value: "<redacted:" + keyed-hash prefix + ">".
REDACTED_PREFIX = "<redacted:"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a resource or setting is declared: shown in reports, used by SARIF later."""

    file: str
    line: int | None = None


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def _immutable(cls: type[_T]) -> type[_T]:
    """A dataclass frozen for the type checker (mypy rejects any assignment to a field), a plain slots class at
    run time: a frozen dataclass's __init__ sets each field through object.__setattr__ and costs several times
    as much (200,000 resources: 0.80 s against 0.17 s CPU, `bench/run breakdown`), on the hot path of every
    scan and comparison. Weakly referenceable: parity.compare.ComparisonMemo remembers resources without
    keeping them alive."""
    return dataclass(slots=True, weakref_slot=True)(cls)


@_immutable
class Resource:
    """One normalised object from one source.

    ``type``: Terraform type name for cloud objects (``aws_s3_bucket``), ``group/version/Kind`` for
    Kubernetes (``apps/v1/Deployment``, core group as ``v1/ConfigMap``), ``config/<format>`` for config files.
    ``id``: the native id inside its environment (bucket name, ARN, ``namespace/name``, relative file path).
    ``key``: the source's own logical identity, stable across scans (Terraform address, k8s
    ``group/version/kind/namespace/name``, config relative path); cross-environment pairing derives its
    keys from this, ``name``, ``address`` and ``tags``.
    ``attributes``: JSON-like values; secret-looking values are already ``<redacted:...>`` markers.

    Immutable by contract (memos hand the same object to later scans): never assign to a field or change
    ``attributes`` in place; build a new one (``dataclasses.replace``).
    """

    type: str
    id: str
    key: str
    attributes: Mapping[str, Json] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""
    owner: Owner = "none"
    name: str | None = None
    address: str | None = None
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """Something a source could not check. ``type`` None means every type in ``scope``."""

    scope: str
    reason: str
    type: str | None = None
    kind: Literal["denied", "failed", "unsupported"] = "failed"


@dataclass(frozen=True, slots=True)
class Coverage:
    """What a source listed and what it could not. A gap suppresses findings that depend on it."""

    listed: tuple[str, ...] = ()
    gaps: tuple[CoverageGap, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.gaps

    def covers_type(self, type_: str) -> bool:
        """False when a gap means resources of ``type_`` may exist that were not seen."""
        return not any(g.type is None or g.type == type_ for g in self.gaps)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """All resources one source gave at one time, plus its coverage record."""

    environment: str
    source: str  # the source's name inside its environment, unique there
    kind: str  # source kind: terraform-state, kubernetes-manifests, config, aws, ...
    role: Role
    collected_at: datetime
    resources: tuple[Resource, ...] = ()
    coverage: Coverage = field(default_factory=Coverage)
    # Facts the source learnt about its environment (account ids, regions, cluster name):
    # used by normalisation and by cross-environment reference detection.
    facts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """One path-level difference. ``left``/``right`` are the two sides' values (None when absent)."""

    path: str
    left: Json = None
    right: Json = None


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A difference or finding that a rule suppressed, kept so the report can list it."""

    rule: Literal["expected", "ignore"]
    reason: str
    change: Change | None = None
    owner: str | None = None
    expires: str | None = None


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who last created or modified a drifted resource, from CloudTrail (``parity.attribution``).

    ``via``: console | cli | terraform | cloudformation | sdk | aws-service | other (from the user agent).
    ``deploy_role``: the principal is one of the environment's ``deploy_roles``; ``out_of_band``: the
    environment declares deploy roles and this principal is none of them (None when none are declared).
    """

    principal: str  # the principal ARN (assumed-role session ARN for a role)
    event: str  # e.g. SetQueueAttributes
    time: datetime
    via: str
    user: str = ""  # user or session name
    role: str = ""  # the role ARN behind an assumed-role session
    source_ip: str = ""
    user_agent: str = ""
    event_id: str = ""
    deploy_role: bool = False
    out_of_band: bool | None = None


def fingerprint(kind: str, type_: str, key: str, environments: tuple[str, ...], detail: str = "") -> str:
    """A finding's stable id: the same drift gets the same id in every scan."""
    raw = "\x1f".join((kind, type_, key, ",".join(sorted(environments)), detail))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that is wrong. ``id`` is stable across scans (see :func:`fingerprint`)."""

    kind: FindingKind
    severity: Severity
    type: str
    key: str
    environments: tuple[str, ...]
    resources: Mapping[str, str]  # environment -> native id
    message: str
    changes: tuple[Change, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()  # expected differences and expired ignores, for the report
    location: Location | None = None
    status: Status = "new"
    detail: str = ""  # extra identity for kinds with several findings per resource (a setting path, ...)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    notes: tuple[str, ...] = ()  # e.g. "ignore rule expired on 2026-01-01 (owner: ana)"
    attribution: Attribution | None = None  # who changed it, from CloudTrail (AWS only)

    @property
    def id(self) -> str:
        return fingerprint(self.kind, self.type, self.key, self.environments, self.detail)
