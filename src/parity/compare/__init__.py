"""Comparison: pair -> diff -> expectations/ignores -> classify -> Findings.

Public API (the CLI and the store depend on exactly this). Every function takes *canonical*
inventories: :func:`parity.normalize.canonicalize` is applied to every snapshot before it is stored.

- :class:`Inventory`: one environment's snapshots.
- :class:`Rules`: everything from parity.yaml the comparison needs, built with :meth:`Rules.from_config`.
- :func:`compare_mirrors` -> ``list[Finding]``: environment vs environment (``only_in``, ``differs``).
  :func:`mirror_report` -> :class:`MirrorResult`: the same findings plus every expected difference
  (:class:`ExpectedDifference`) for the report, the role compared and the types left unchecked.
  A :class:`ComparisonMemo` passed to it and kept between calls (``parity watch``) spares
  re-substituting content an earlier comparison saw.
- :func:`compare_code_live` -> :class:`CodeLiveResult`: declared vs live inside one environment
  (``unmanaged``, ``missing``, ``changed``) plus its coverage figure.
- :func:`find_cross_env_references` -> ``list[Finding]``: ``cross_env_reference`` across all environments.
- :func:`apply_ignores` -> :class:`IgnoreResult`: the ``ignore`` rules, applied last to any list of findings.
- :func:`diff`: the path-level diff engine; :data:`SEVERITY_TABLE`: the severity rules.
"""

from parity.compare.codelive import CodeLiveResult, compare_code_live
from parity.compare.diff import diff
from parity.compare.ignores import IgnoreResult, apply_ignores
from parity.compare.memo import ComparisonMemo
from parity.compare.mirrors import ExpectedDifference, MirrorResult, compare_mirrors, mirror_report
from parity.compare.pairing import Pairing, pair_resources
from parity.compare.references import find_cross_env_references
from parity.compare.severity import SEVERITY_TABLE
from parity.compare.types import Inventory, Rules

__all__ = [
    "SEVERITY_TABLE",
    "CodeLiveResult",
    "ComparisonMemo",
    "ExpectedDifference",
    "IgnoreResult",
    "Inventory",
    "MirrorResult",
    "Pairing",
    "Rules",
    "apply_ignores",
    "compare_code_live",
    "compare_mirrors",
    "diff",
    "find_cross_env_references",
    "mirror_report",
    "pair_resources",
]
