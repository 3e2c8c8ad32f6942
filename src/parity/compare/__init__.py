"""Comparison: pair -> diff -> expectations/ignores -> classify -> Findings.

Public API (the CLI and the store depend on exactly this):

- :class:`Inventory`: one environment's snapshots.
- :class:`Rules`: everything from parity.yaml the comparison needs, built with :meth:`Rules.from_config`.
- :func:`compare_mirrors`: environment vs environment (``only_in``, ``differs``).
- :func:`compare_code_live`: declared vs live inside one environment (``unmanaged``, ``missing``,
  ``changed``) plus its coverage figure.
- :func:`find_cross_env_references`: ``cross_env_reference`` across all environments.
- :func:`apply_ignores`: the ``ignore`` rules, applied last to any list of findings.
"""
