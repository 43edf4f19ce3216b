"""The audit ledger's tables (SQLAlchemy Core), in a MetaData of their own.

Append-only by design: an incident row is written once; its state is the latest row of
`ledger_incident_events`; approval answers, step results, publications and notifications
are rows added, never changed. The exceptions are `ledger_incident_keys`, a claim held
while an event-driven incident is open (inserted when it opens, deleted when it resolves),
and `ledger_publication_intents`, whose `settled_at`/`outcome` are set once, when the
portal's receipt for the intent is on record.
The ledger's own MetaData and migrations (`migrations/`, version table
`alembic_version_ledger`) keep it apart from the warehouse's; these tables must equal what
the migrations build (a test compares them). Table names carry a `ledger_` prefix because
they may share the warehouse database.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no zones) and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"ledger times must be timezone-aware, got {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _incident_ref(nullable: bool = False) -> sa.Column:
    return sa.Column(
        "incident_id",
        sa.Integer,
        sa.ForeignKey("ledger_incidents.id"),
        nullable=nullable,
        index=True,
    )


def _recorded_at() -> sa.Column:
    return sa.Column("recorded_at", UtcDateTime, nullable=False, default=lambda: datetime.now(UTC))


incidents = sa.Table(
    "ledger_incidents",
    metadata,
    _id(),
    sa.Column("pipeline", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("partition", sa.String(200)),
    sa.Column("event_id", sa.String(200), unique=True),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("runbook", sa.String(200)),
    sa.Column("flow_run_id", sa.String(64), index=True),
    _recorded_at(),
)

incident_events = sa.Table(
    "ledger_incident_events",
    metadata,
    _id(),
    _incident_ref(),
    sa.Column("state", sa.String(50), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(200)),
    sa.Column("detail", sa.Text),
    _recorded_at(),
)

step_results = sa.Table(
    "ledger_step_results",
    metadata,
    _id(),
    _incident_ref(),
    sa.Column("flow_run_id", sa.String(64)),
    sa.Column("step_id", sa.String(200), nullable=False),
    sa.Column("state", sa.String(50), nullable=False),
    sa.Column("started_at", UtcDateTime),
    sa.Column("ended_at", UtcDateTime),
    sa.Column("result", sa.JSON),
    _recorded_at(),
)

approval_requests = sa.Table(
    "ledger_approval_requests",
    metadata,
    _id(),
    _incident_ref(),
    sa.Column("flow_run_id", sa.String(64), nullable=False),
    sa.Column("pause_key", sa.String(200), nullable=False),
    sa.Column("step_id", sa.String(200)),
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Column("approvers", sa.JSON, nullable=False),
    sa.Column("min_approvals", sa.Integer, nullable=False),
    sa.Column("escalate_at", UtcDateTime),
    sa.Column("timeout_at", UtcDateTime),
    _recorded_at(),
    sa.UniqueConstraint("flow_run_id", "pause_key", name="uq_ledger_request_pause"),
)

approval_answers = sa.Table(
    "ledger_approval_answers",
    metadata,
    _id(),
    sa.Column(
        "request_id",
        sa.Integer,
        sa.ForeignKey("ledger_approval_requests.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("who", sa.String(200), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("authorized", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("answered_at", UtcDateTime, nullable=False),
    _recorded_at(),
)

publications = sa.Table(
    "ledger_publications",
    metadata,
    _id(),
    _incident_ref(),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("partition", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("receipt_id", sa.String(200), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer),
    sa.Column("published_at", UtcDateTime, nullable=False),
    _recorded_at(),
)

publication_intents = sa.Table(
    "ledger_publication_intents",
    metadata,
    _id(),
    _incident_ref(),
    sa.Column("idempotency_key", sa.String(500), nullable=False, index=True),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("partition", sa.String(200), nullable=False),
    sa.Column("report_sha256", sa.String(64), nullable=False),
    sa.Column("feed_sha256", sa.String(64)),
    sa.Column("approved_by", sa.String(500), nullable=False),
    _recorded_at(),
    sa.Column("settled_at", UtcDateTime),
    sa.Column("outcome", sa.String(20)),
)
"""What a publish step is about to send, recorded before the request; settled by the receipt
(`published`), by a later intent of the same key (`superseded`), or by reconciliation."""

incident_keys = sa.Table(
    "ledger_incident_keys",
    metadata,
    sa.Column("pipeline", sa.String(200), primary_key=True),
    sa.Column("partition", sa.String(200), primary_key=True),
    sa.Column(
        "incident_id", sa.Integer, sa.ForeignKey("ledger_incidents.id"), nullable=False, unique=True
    ),
    sa.Column("claimed_at", UtcDateTime, nullable=False),
)
"""The open incident of each (pipeline, partition): the one row a second claim collides with."""

event_outcomes = sa.Table(
    "ledger_event_outcomes",
    metadata,
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("partition", sa.String(200)),
    sa.Column("kind", sa.String(100)),
    _incident_ref(nullable=True),
    sa.Column("digest", sa.String(64), nullable=False, index=True),
    sa.Column("source", sa.String(200)),
    sa.Column("detail", sa.Text),
    sa.Column("at", UtcDateTime, nullable=False),
)
"""What became of each failure event, one row per event id: opened, attached, refused or
duplicate. The primary key makes accounting an event twice fail in the database."""

notifications = sa.Table(
    "ledger_notifications",
    metadata,
    _id(),
    _incident_ref(nullable=True),
    sa.Column("recipient", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("target", sa.String(500)),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=False),
    sa.Column("delivered", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text),
    _recorded_at(),
)
