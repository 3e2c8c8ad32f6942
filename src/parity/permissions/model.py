"""The permission model: statements traced to their policy, grants, principals and permission sets.

A :class:`Grant` is a block of allowed actions sharing one resource scope and one set of conditions,
traced to the policy statement it comes from. A principal's :class:`PermissionSet` is its list of grants
after denies, permission boundaries and SCPs (:mod:`parity.permissions.evaluate`). Keeping blocks (not one
entry per action) keeps 1,000 principals holding ``ReadOnlyAccess`` cheap: set operations on shared
frozensets.

Conditions are kept as structure (canonical JSON strings), never evaluated: a grant with conditions
``{c1, c2}`` is narrower than one with ``{c1}``. A deny that cannot be applied exactly (it has a condition,
or its resource scope only partly overlaps) becomes a condition of the grant (``{"Deny": ...}``), so
the set never widens by a deny it could not evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from parity.permissions.glob import contains

PrincipalKind = Literal["user", "role", "group", "k8s-subject"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a grant comes from: the policy and the statement (its Sid, else its position)."""

    policy: str  # "inline:deploy", "arn:aws:iam::aws:policy/ReadOnlyAccess", "ClusterRole/view"
    statement: str  # "Sid" or "#0"
    via: str = ""  # "group:devs" when inherited

    def __str__(self) -> str:
        via = f" via {self.via}" if self.via else ""
        return f"{self.policy} [{self.statement}]{via}"


@dataclass(frozen=True, slots=True)
class Scope:
    """A resource scope: one glob (``negated`` False) or "anything but these globs" (NotResource)."""

    patterns: tuple[str, ...]
    negated: bool = False

    @staticmethod
    def of(pattern: str) -> Scope:
        return Scope((pattern,))

    def contains(self, other: Scope) -> bool:
        """Every resource ``other`` covers is covered here (conservative: False when undecidable)."""
        if not self.negated:
            return self.patterns == ("*",) or (not other.negated and contains(self.patterns[0], other.patterns[0]))
        if other.negated:  # not(A) ⊇ not(B)  <=  every a in A is inside some b in B
            return all(any(contains(b, a) for b in other.patterns) for a in self.patterns)
        return False

    def __str__(self) -> str:
        return ("NOT " if self.negated else "") + ", ".join(self.patterns)


ANY = Scope(("*",))


@dataclass(frozen=True, slots=True)
class Statement:
    """One parsed statement: expanded actions (or the complement for NotAction), scopes, conditions."""

    effect: Literal["Allow", "Deny"]
    actions: frozenset[str]  # lower-case catalogue actions, plus unknown patterns kept literally
    patterns: tuple[str, ...]  # the statement's own action globs (lower-case), for unknown actions
    everything: bool  # Action "*": every action, including ones the catalogue does not know
    scopes: tuple[Scope, ...]
    conditions: tuple[str, ...]  # canonical JSON of the Condition block (empty: unconditional)
    source: Source


@dataclass(frozen=True, slots=True)
class Grant:
    """Allowed ``actions`` on ``scope`` under ``conditions``, from ``source``."""

    actions: frozenset[str]
    scope: Scope
    conditions: frozenset[str]
    source: Source
    patterns: tuple[str, ...] = ()
    everything: bool = False

    def covers_pattern(self, action: str) -> bool:
        """Whether an action the catalogue does not know is still allowed here (by ``*`` or a glob)."""
        return self.everything or action in self.actions or any(contains(p, action) for p in self.patterns)


@dataclass(frozen=True)
class Policy:
    """A policy document attached to a principal, with its parsed statements."""

    name: str  # "inline:deploy" or the managed policy ARN
    statements: tuple[Statement, ...]
    via: str = ""  # "group:devs"
    resource_id: str = ""  # the live id of what grants it (attachment / inline policy / membership)
    resource_type: str = ""
    created: str = ""  # the policy (version) date where known, ISO
    unread: str = ""  # why its document (or some statements of it) could not be read ("" when it could)


@dataclass(frozen=True)
class Principal:
    """A user, role or group (or a Kubernetes subject) with everything that shapes its permissions."""

    kind: PrincipalKind
    name: str
    id: str  # native id (name / ARN)
    key: str  # pairing key source (ARN, subject)
    environment: str
    policies: tuple[Policy, ...] = ()
    boundary: tuple[Statement, ...] | None = None  # None: no permissions boundary
    scps: tuple[tuple[Statement, ...], ...] = ()  # one tuple per SCP level (each level must allow)
    human: bool = False
    human_reason: str = ""
    created: str = ""
    last_used: str = ""
    resource_type: str = ""
    # what could not be read for this principal (a policy, its boundary, an SCP, its trust policy): its
    # effective permissions are incomplete, and every finding about it carries these notes
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PermissionSet:
    """A principal's effective grants (see the module docstring)."""

    principal: Principal
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def allowed(self) -> frozenset[str]:
        """Every action allowed anywhere under any conditions (a view for reports and tests)."""
        out: set[str] = set()
        for g in self.grants:
            out |= g.actions
        return frozenset(out)
