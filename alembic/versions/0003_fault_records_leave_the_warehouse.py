"""injected_faults leaves the warehouse schema (the fault layer owns its table)

Fault injection is test machinery beside the product (package `faults`); it creates its own
`injected_faults` table when a fault is first injected. A production warehouse has none.
Records present at upgrade are dropped with the table: clear faults first
(`runbook fault clear --data`) if some are still in use.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("injected_faults"):
        op.drop_table("injected_faults")


def downgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("injected_faults"):
        return  # the fault layer made it already; same columns
    op.create_table(
        "injected_faults",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=False),
        sa.Column("pipeline", sa.String(length=64), nullable=False),
        sa.Column("partition_key", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
