"""Audit ledger baseline: the tables `metadata.create_all` made before the ledger had migrations

Revision ID: ledger_0001
Revises:
Create Date: 2026-11-26 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "ledger_0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _incident_id(nullable: bool = False) -> sa.Column:
    return sa.Column("incident_id", sa.Integer(), nullable=nullable)


def _recorded_at() -> sa.Column:
    return sa.Column("recorded_at", sa.DateTime(), nullable=False)


def _incident_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["incident_id"], ["ledger_incidents.id"])


def upgrade() -> None:
    op.create_table(
        "ledger_incidents",
        _id(),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("partition", sa.String(length=200), nullable=True),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("runbook", sa.String(length=200), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        _recorded_at(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_ledger_incidents_pipeline", "ledger_incidents", ["pipeline"])
    op.create_table(
        "ledger_incident_events",
        _id(),
        _incident_id(),
        sa.Column("state", sa.String(length=50), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        _recorded_at(),
        _incident_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ledger_step_results",
        _id(),
        _incident_id(),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("step_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=50), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        _recorded_at(),
        _incident_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ledger_approval_requests",
        _id(),
        _incident_id(),
        sa.Column("flow_run_id", sa.String(length=64), nullable=False),
        sa.Column("pause_key", sa.String(length=200), nullable=False),
        sa.Column("step_id", sa.String(length=200), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("approvers", sa.JSON(), nullable=False),
        sa.Column("min_approvals", sa.Integer(), nullable=False),
        sa.Column("escalate_at", sa.DateTime(), nullable=True),
        sa.Column("timeout_at", sa.DateTime(), nullable=True),
        _recorded_at(),
        _incident_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flow_run_id", "pause_key", name="uq_ledger_request_pause"),
    )
    op.create_table(
        "ledger_approval_answers",
        _id(),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("authorized", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        _recorded_at(),
        sa.ForeignKeyConstraint(["request_id"], ["ledger_approval_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ledger_publications",
        _id(),
        _incident_id(),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("receipt_id", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        _recorded_at(),
        _incident_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ledger_notifications",
        _id(),
        _incident_id(nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        _recorded_at(),
        _incident_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    for table in _BY_INCIDENT:
        op.create_index(f"ix_{table}_incident_id", table, ["incident_id"])
    op.create_index(
        "ix_ledger_approval_answers_request_id", "ledger_approval_answers", ["request_id"]
    )


_BY_INCIDENT = (
    "ledger_incident_events",
    "ledger_step_results",
    "ledger_approval_requests",
    "ledger_publications",
    "ledger_notifications",
)


def downgrade() -> None:
    for table in (
        "ledger_notifications",
        "ledger_publications",
        "ledger_approval_answers",
        "ledger_approval_requests",
        "ledger_step_results",
        "ledger_incident_events",
        "ledger_incidents",
    ):
        op.drop_table(table)
