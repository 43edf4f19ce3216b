"""Incident keys: one open incident per (pipeline, partition), claimed when the incident opens

Revision ID: ledger_0003
Revises: ledger_0002
Create Date: 2026-11-27 09:00:00

A row is inserted in the transaction that opens an event-driven incident and deleted in the
one that resolves it; the primary key makes a second claim of the same key fail in the
database, whichever process tries. Incidents opened before this revision hold no key.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "ledger_0003"
down_revision = "ledger_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_incident_keys",
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["ledger_incidents.id"]),
        sa.PrimaryKeyConstraint("pipeline", "partition"),
        sa.UniqueConstraint("incident_id"),
    )


def downgrade() -> None:
    op.drop_table("ledger_incident_keys")
