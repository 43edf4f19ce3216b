"""The portal's fault plan: one row per rule, consumed in order

Revision ID: portal_faults_0001
Revises:
Create Date: 2026-12-07 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "portal_faults_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_faults",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("portal_faults")
