"""Alerts: new and recurring findings of a scan, queued in the store's outbox with the scan and delivered
after commit (webhook, Slack, email). See :mod:`parity.alerts.outbox` and :mod:`parity.alerts.deliver`.

This ``__init__`` imports nothing: :mod:`parity.config` imports :mod:`parity.alerts.settings`.
"""
