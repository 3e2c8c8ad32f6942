"""Initial store schema: scans, content-addressed resource versions, membership intervals, findings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = sa.String(64)
FINDING_ID = sa.String(16)
NAME = sa.String(255)
# Frozen here on purpose: a migration must not change when the current tables.py does.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    lock = op.create_table(
        "store_lock",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("counter", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_store_lock"),
    )
    op.bulk_insert(lock, [{"id": 1, "counter": 0}])
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("finding_counts", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scans"),
    )
    op.create_table(
        "scan_environments",
        sa.Column("scan_id", sa.Integer, nullable=False),
        sa.Column("environment", NAME, nullable=False),
        sa.PrimaryKeyConstraint("scan_id", "environment", name="pk_scan_environments"),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name="fk_scan_environments_scan_id_scans"),
    )
    op.create_index("ix_scan_environments_environment_scan_id", "scan_environments", ["environment", "scan_id"])
    op.create_table(
        "snapshot_metas",
        sa.Column("hash", HASH, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_snapshot_metas"),
    )
    op.create_table(
        "scan_sources",
        sa.Column("scan_id", sa.Integer, nullable=False),
        sa.Column("environment", NAME, nullable=False),
        sa.Column("source", NAME, nullable=False),
        sa.Column("collected_at", TIMESTAMP, nullable=False),
        sa.Column("meta_hash", HASH, nullable=False),
        sa.Column("resource_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("scan_id", "environment", "source", name="pk_scan_sources"),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name="fk_scan_sources_scan_id_scans"),
        sa.ForeignKeyConstraint(
            ["meta_hash"], ["snapshot_metas.hash"], name="fk_scan_sources_meta_hash_snapshot_metas"
        ),
    )
    op.create_index("ix_scan_sources_environment_source_scan_id", "scan_sources", ["environment", "source", "scan_id"])
    op.create_table(
        "resource_versions",
        sa.Column("hash", HASH, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_resource_versions"),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("environment", NAME, nullable=False),
        sa.Column("source", NAME, nullable=False),
        sa.Column("version", HASH, nullable=False),
        sa.Column("from_scan", sa.Integer, nullable=False),
        sa.Column("until_scan", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_memberships"),
        sa.ForeignKeyConstraint(
            ["version"], ["resource_versions.hash"], name="fk_memberships_version_resource_versions"
        ),
        sa.ForeignKeyConstraint(["from_scan"], ["scans.id"], name="fk_memberships_from_scan_scans"),
        sa.ForeignKeyConstraint(["until_scan"], ["scans.id"], name="fk_memberships_until_scan_scans"),
    )
    op.create_index(
        "ix_memberships_environment_source_until_scan", "memberships", ["environment", "source", "until_scan"]
    )
    op.create_index(
        "ix_memberships_environment_source_from_scan", "memberships", ["environment", "source", "from_scan"]
    )
    op.create_table(
        "findings",
        sa.Column("id", FINDING_ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("last_scan", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
        sa.ForeignKeyConstraint(["last_scan"], ["scans.id"], name="fk_findings_last_scan_scans"),
    )
    op.create_index("ix_findings_state", "findings", ["state"])
    op.create_table(
        "finding_environments",
        sa.Column("finding_id", FINDING_ID, nullable=False),
        sa.Column("environment", NAME, nullable=False),
        sa.PrimaryKeyConstraint("finding_id", "environment", name="pk_finding_environments"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name="fk_finding_environments_finding_id_findings"),
    )
    op.create_index("ix_finding_environments_environment", "finding_environments", ["environment"])
    op.create_table(
        "finding_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", FINDING_ID, nullable=False),
        sa.Column("scan_id", sa.Integer, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_finding_events"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name="fk_finding_events_finding_id_findings"),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], name="fk_finding_events_scan_id_scans"),
    )
    op.create_index("ix_finding_events_finding_id", "finding_events", ["finding_id"])
    op.create_index("ix_finding_events_scan_id", "finding_events", ["scan_id"])
    op.create_table(
        "acceptances",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finding_id", FINDING_ID, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("expires", sa.Date, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_acceptances"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name="fk_acceptances_finding_id_findings"),
    )
    op.create_index("ix_acceptances_finding_id", "acceptances", ["finding_id"])


def downgrade() -> None:
    for table in (
        "acceptances",
        "finding_events",
        "finding_environments",
        "findings",
        "memberships",
        "resource_versions",
        "scan_sources",
        "snapshot_metas",
        "scan_environments",
        "scans",
        "store_lock",
    ):
        op.drop_table(table)
