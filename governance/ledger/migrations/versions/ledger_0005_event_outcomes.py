"""Event outcomes: what became of every failure event (opened, attached, refused, duplicate)

Revision ID: ledger_0005
Revises: ledger_0004
Create Date: 2026-12-07 03:00:00

One row per event id, written by the event door in the transaction that decides the event;
the primary key makes a re-delivered event (a reconnect's backfill) a no-op.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "ledger_0005"
down_revision = "ledger_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_event_outcomes",
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=100), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["ledger_incidents.id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        "ix_ledger_event_outcomes_incident_id", "ledger_event_outcomes", ["incident_id"]
    )
    op.create_index("ix_ledger_event_outcomes_digest", "ledger_event_outcomes", ["digest"])


def downgrade() -> None:
    op.drop_table("ledger_event_outcomes")
