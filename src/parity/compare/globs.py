"""Kept for importers of ``parity.compare.globs``: the rule globs live in :mod:`parity.globs` (one
implementation, shared with :mod:`parity.config` and the promotion ledger)."""

from __future__ import annotations

from parity.globs import glob_match, path_match, rule_matches

__all__ = ["glob_match", "path_match", "rule_matches"]
