"""Normalisation: one chain, applied to every snapshot before it is stored and compared.

Public API:

- :func:`canonicalize` (Snapshot -> Snapshot), :func:`canonical_attributes`, :func:`canonical_value`:
  the canonical form (JSON-string documents parsed, noise KB applied, empty folded into absent,
  IAM documents and order-insensitive lists sorted). Deterministic and idempotent.
- :class:`NoiseKB`, :func:`default_kb`, :func:`load_kb_file`: the noise knowledge base (``noise.yaml``).
- :class:`Placeholders`: the cross-environment substitution (``{env}``, ``{account}``, ``{region}``).
- :class:`CanonicalMemo`: canonical forms by raw content, kept between scans by a long-running process.
"""

from parity.normalize.canonical import canonical_attributes, canonical_resource, canonical_value, canonicalize
from parity.normalize.memo import CanonicalMemo
from parity.normalize.noise import NoiseKB, RuleNode, TypeRules, default_kb, load_kb_file, load_kb_text
from parity.normalize.placeholders import ACCOUNT, ENV, REGION, Placeholders

__all__ = [
    "ACCOUNT",
    "ENV",
    "REGION",
    "CanonicalMemo",
    "NoiseKB",
    "Placeholders",
    "RuleNode",
    "TypeRules",
    "canonical_attributes",
    "canonical_resource",
    "canonical_value",
    "canonicalize",
    "default_kb",
    "load_kb_file",
    "load_kb_text",
]
