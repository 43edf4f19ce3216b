"""restored_rows: the provenance (file and load) of source rows a restore inserted

A restore from a second copy (event backup, activity logs) records each row it inserts, so a
later restore of the same day from a corrected file replaces its own earlier rows and never
a row that came from the source. Rows restored before this revision have no record: they
count as the source's.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "restored_rows",
        sa.Column("source_table", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("load_id", sa.String(length=32), nullable=False),
        sa.Column("restored_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_table", "row_key"),
    )
    op.create_index("ix_restored_rows_table_day", "restored_rows", ["source_table", "day"])


def downgrade() -> None:
    op.drop_index("ix_restored_rows_table_day", table_name="restored_rows")
    op.drop_table("restored_rows")
