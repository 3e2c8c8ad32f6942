"""Watch mode: scheduled scans per environment (see :mod:`parity.watch.runner`), leases, metrics.

This package's ``__init__`` imports nothing: :mod:`parity.config` imports :mod:`parity.watch.settings`.
"""
