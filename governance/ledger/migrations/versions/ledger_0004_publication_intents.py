"""Publication intents: what a publish step is about to send, on record before the request

Revision ID: ledger_0004
Revises: ledger_0003
Create Date: 2026-12-07 03:00:00

A publish step records its release key, the sha256 of the report (and feed) and who approved
them before it calls the portal, and settles the row with the receipt after. A row left
unsettled (the ledger went away while the request was in flight) is reconciled from the
portal's receipts when the ledger is back.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "ledger_0004"
down_revision = "ledger_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_publication_intents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=500), nullable=False),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.String(length=200), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("feed_sha256", sa.String(length=64), nullable=True),
        sa.Column("approved_by", sa.String(length=500), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["ledger_incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_ledger_publication_intents_incident_id", "ledger_publication_intents", ["incident_id"]
    )
    op.create_index(
        "ix_ledger_publication_intents_idempotency_key",
        "ledger_publication_intents",
        ["idempotency_key"],
    )


def downgrade() -> None:
    op.drop_table("ledger_publication_intents")
