"""partition_runs: quarantine state with the failing checks and when they ran

A partition whose blocking checks fail is `quarantined` (not `complete`), with the failing
checks as JSON; a transform leaves it `unchecked` until its checks run. Rows marked
`complete` before this revision were never held to that rule (a failed check left them
`complete`), so they become `unchecked`: the next check run decides, and no report is built
from them before it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("partition_runs", sa.Column("failing_checks", sa.Text(), nullable=True))
    op.add_column("partition_runs", sa.Column("checked_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE partition_runs SET status = 'unchecked' WHERE status = 'complete'")


def downgrade() -> None:
    op.execute("UPDATE partition_runs SET status = 'complete' WHERE status = 'unchecked'")
    op.execute("UPDATE partition_runs SET status = 'failed' WHERE status = 'quarantined'")
    with op.batch_alter_table("partition_runs") as batch:
        batch.drop_column("checked_at")
        batch.drop_column("failing_checks")
