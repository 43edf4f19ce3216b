"""What the ledger hands back: plain frozen records, one per table, and the state vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class IncidentState(StrEnum):
    """Kinds of incident events. Lifecycle states move the incident; markers annotate it."""

    OPENED = "opened"
    RECOVERING = "recovering"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    CRASHED = "crashed"  # the run's process died; the incident sync retries it once
    CANCELLED = "cancelled"  # someone cancelled the run; nothing more runs for it
    NEEDS_ATTENTION = "needs_attention"  # no run will finish it: a person was notified
    RESOLVED = "resolved"
    CLOSED = "closed"
    # markers: recorded in time order, never the incident's current state
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    SLA_THRESHOLD = "sla_threshold"
    BREACHED = "breached"
    ANSWER_REFUSED = "answer_refused"
    EVENT_ATTACHED = "event_attached"  # a further failure event of the same key
    ANNOTATED = "annotated"  # a person explained a swing of the partition's numbers
    LINKED = "linked"  # a run's incident and the incident of another pipeline it publishes


MARKERS = frozenset(
    {
        IncidentState.NOTIFIED,
        IncidentState.ESCALATED,
        IncidentState.SLA_THRESHOLD,
        IncidentState.BREACHED,
        IncidentState.ANSWER_REFUSED,
        IncidentState.EVENT_ATTACHED,
        IncidentState.ANNOTATED,
        IncidentState.LINKED,
    }
)
LIFECYCLE = frozenset(IncidentState) - MARKERS
# Rejected and timed-out incidents stay open: nothing was republished.
RESOLVED_STATES = frozenset({IncidentState.PUBLISHED, IncidentState.RESOLVED, IncidentState.CLOSED})


@dataclass(frozen=True)
class Incident:
    """A failure of one pipeline (partition), opened at the failure event's time."""

    id: int
    pipeline: str
    kind: str
    partition: str | None
    event_id: str | None
    opened_at: datetime
    runbook: str | None
    flow_run_id: str | None


@dataclass(frozen=True)
class KeyedOpening:
    """What opening an event-driven incident did: opened (and claimed its key), or attached.

    `attached` is True when (pipeline, partition) already had an open incident: the event
    was recorded on that incident (`incident`) and nothing new was opened.
    """

    incident: Incident
    attached: bool


@dataclass(frozen=True)
class IncidentEvent:
    """One appended state change or marker."""

    id: int
    incident_id: int
    state: str
    at: datetime
    actor: str | None
    detail: Any


@dataclass(frozen=True)
class ApprovalRequest:
    """One pause of a gate: who may answer, how many must, and when to escalate."""

    id: int
    incident_id: int
    flow_run_id: str
    pause_key: str
    step_id: str | None
    requested_at: datetime
    approvers: tuple[str, ...]
    min_approvals: int
    escalate_at: datetime | None
    timeout_at: datetime | None


@dataclass(frozen=True)
class ApprovalAnswer:
    """One answer to a request, kept whether it was authorized or refused."""

    id: int
    request_id: int
    who: str
    decision: str
    comment: str | None
    authorized: bool
    reason: str | None
    answered_at: datetime


@dataclass(frozen=True)
class StepResult:
    """One step's outcome (retries append further rows)."""

    id: int
    incident_id: int
    flow_run_id: str | None
    step_id: str
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    result: Any


@dataclass(frozen=True)
class Publication:
    """What reached the investor portal, with its receipt."""

    id: int
    incident_id: int
    pipeline: str
    partition: str
    kind: str
    receipt_id: str
    sha256: str
    version: int | None
    published_at: datetime


@dataclass(frozen=True)
class Notification:
    """One message to one engineer on one channel, delivered or not."""

    id: int
    incident_id: int | None
    recipient: str
    channel: str
    target: str | None
    reason: str
    sent_at: datetime
    delivered: bool
    detail: str | None


@dataclass(frozen=True)
class PublicationIntent:
    """What a publish step was about to send, recorded before its request to the portal."""

    id: int
    incident_id: int
    idempotency_key: str
    pipeline: str
    partition: str
    report_sha256: str
    feed_sha256: str | None
    approved_by: str
    recorded_at: datetime
    settled_at: datetime | None
    outcome: str | None
