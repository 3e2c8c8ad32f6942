"""Watch mode and alerts: the alert outbox, watch leases and failed watched scans.

Revision ID: 0002_alert_outbox
Revises: 0001
Create Date: 2026-11-26 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_alert_outbox"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = sa.String(255)
# Frozen here on purpose: a migration must not change when the current tables.py does.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, nullable=False),
        sa.Column("notifier", NAME, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_outbox"),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name="fk_alert_outbox_scan_id_scans"),
        sa.UniqueConstraint("scan_id", "notifier", name="uq_alert_outbox_scan_id_notifier"),
    )
    op.create_index("ix_alert_outbox_state_next_attempt_at", "alert_outbox", ["state", "next_attempt_at"])
    op.create_table(
        "watch_leases",
        sa.Column("environment", NAME, nullable=False),
        sa.Column("holder", sa.String(255), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("last_started_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("environment", name="pk_watch_leases"),
    )
    op.create_table(
        "scan_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("environment", NAME, nullable=False),
        sa.Column("environments", sa.Text, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scan_failures"),
    )
    op.create_index("ix_scan_failures_environment_id", "scan_failures", ["environment", "id"])


def downgrade() -> None:
    op.drop_index("ix_scan_failures_environment_id", table_name="scan_failures")
    op.drop_table("scan_failures")
    op.drop_table("watch_leases")
    op.drop_index("ix_alert_outbox_state_next_attempt_at", table_name="alert_outbox")
    op.drop_table("alert_outbox")
