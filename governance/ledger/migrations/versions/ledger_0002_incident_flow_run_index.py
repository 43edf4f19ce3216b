"""Index the incident of a flow run (`runbook approve` and every gate answer look it up)

Revision ID: ledger_0002
Revises: ledger_0001
Create Date: 2026-11-26 06:10:00
"""

from __future__ import annotations

from alembic import op

revision = "ledger_0002"
down_revision = "ledger_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_incidents_flow_run_id", "ledger_incidents", ["flow_run_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_incidents_flow_run_id", table_name="ledger_incidents")
