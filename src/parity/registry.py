"""Source kinds, each declared once where it is implemented and registered by importing its package.

A source module calls :func:`register_source` at import; :func:`source_kinds` imports every package
under ``parity.sources`` once (no work at parity's own import time) and returns the registry.
A duplicate kind is an error.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.model import Json, Role, Snapshot
from parity.redact import Redactor


@dataclass(frozen=True)
class CollectContext:
    """What a source needs besides its own config block."""

    environment: str
    source_name: str
    base_dir: Path  # the config file's folder: relative paths in source blocks resolve against it
    redactor: Redactor
    role: Role
    # environment -> tokens standing for it in names (prod, prd, production); used for file pairing keys
    tokens: Mapping[str, tuple[str, ...]]
    progress: Callable[[str], None] | None = None
    # Types an unexpired ignore rule suppresses whole (kind *, key *): live sources need not list them.
    skip_types: frozenset[str] = frozenset()
    # (type, attributes) -> canonical attributes, when the caller canonicalises what is collected: a source
    # registered with canonical_on_read applies it to every resource's attributes as soon as it has read them
    # (while they are in the processor's cache; parity.pipeline then does not walk them again)
    canonical_attributes: Callable[[str, dict[str, Json]], dict[str, Json]] | None = None

    def resolve(self, p: str) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() else self.base_dir / q

    def report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


# A collector reads one source block (a pydantic model from parity.config) and returns its snapshots
# (usually one; a refresh-only plan gives a declared and a live one).
# Declared sources raise parity.errors.InputError on bad input; live sources record coverage gaps.
Collector = Callable[[Any, CollectContext], Sequence[Snapshot]]


@dataclass(frozen=True)
class SourceKind:
    kind: str
    collect: Collector
    description: str
    canonical_on_read: bool = False  # applies CollectContext.canonical_attributes itself, where given


_SOURCES: dict[str, SourceKind] = {}
_loaded = False


def register_source(
    kind: str, description: str, *, canonical_on_read: bool = False
) -> Callable[[Collector], Collector]:
    """Decorator: ``@register_source("terraform-state", "...")`` on the collector function."""

    def deco(fn: Collector) -> Collector:
        if kind in _SOURCES:
            raise RuntimeError(f"source kind {kind!r} registered twice")
        _SOURCES[kind] = SourceKind(kind, fn, description, canonical_on_read)
        return fn

    return deco


def source_kinds() -> Mapping[str, SourceKind]:
    global _loaded
    if not _loaded:
        import parity.sources as pkg

        for mod in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod.name)
        _loaded = True
    return _SOURCES


# Resource-type knowledge the comparison needs, declared by the module that implements the type ----------


@dataclass(frozen=True)
class TypeInfo:
    """What code-vs-live needs to know about one resource type (e.g. ``aws_iam_role_policy_attachment``).

    ``compared``: the top-level attributes compared between a declaration and the live object (in the
    declaration's names, e.g. Terraform's); empty means every path the declaration states.
    ``native_id``: the live object's id computed from a declaration's attributes, for types whose
    Terraform id is not the native id (``role-20190101...`` for an attachment); None when they agree.
    ``parent``: ``(parent type, attribute of this resource holding the parent's live id)`` for child
    objects a managed parent owns (the rules of a security group declared with inline rules): a live
    child whose parent is declared is managed through it, never ``unmanaged``.
    """

    type: str
    compared: tuple[str, ...] = ()
    native_id: Callable[[Mapping[str, Any]], str | None] | None = None
    parent: tuple[str, str] | None = None
    # Paths whose values are secret by position, not by name (``environment[].variables.*``): every
    # source hashes them, so a declaration and the live object compare marker with marker.
    secret_paths: tuple[str, ...] = ()
    # Secrets inside a value (a URL's password or query token): a function every source applies to this
    # type's attributes, returning them with those parts hashed, so a declaration and the live object
    # compare marker with marker and neither side prints the secret.
    redact_values: Callable[[dict[str, Any], Redactor], dict[str, Any]] | None = None
    # Another type already carries this one's content (aws_security_group_rule within aws_security_group's
    # ingress/egress): compared between code and live, where a state may use either, but not between
    # environments, where it would repeat the other type's differences.
    alternative_of: str | None = None


_TYPES: dict[str, TypeInfo] = {}


def register_type(info: TypeInfo) -> TypeInfo:
    if info.type in _TYPES:
        raise RuntimeError(f"resource type {info.type!r} registered twice")
    _TYPES[info.type] = info
    return info


def type_info(type_: str) -> TypeInfo | None:
    """The registered knowledge about ``type_`` (importing every source package first)."""
    source_kinds()
    return _TYPES.get(type_)
