"""Refused failure events: counted, folded into one incident per burst, paged once.

A refusal must cost the sender, not the operator. Each refused event gets its outcome row
(`refused`, with the reasons and the claimed source) and nothing else that grows with the
flood: the first refusal of a burst (per pipeline, every unknown pipeline counting as one, so
varying labels or names does not split it; a burst ends after `BURST_GAP` of quiet) records one
`invalid_event` incident, closed at once so it shows no SLA clock on the board, and pages
the on-call engineer once; later refusals of the burst are counted on that incident. A
refusal claims no partition key, so it can never stand in a genuine failure's way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flows.events.contract import NAME_MAX
from foundation.visible import visible
from governance.ledger.outcomes import EventOutcome, Outcome, outcome_now
from governance.ledger.records import IncidentState
from governance.oncall.responders import first_responders, on_call_or_none
from recovery_tasks.services import RunServices

INVALID_EVENT = "invalid_event"
UNKNOWN_PIPELINE = "(unknown pipeline)"
BURST_GAP = timedelta(minutes=10)
DOOR = "event-door"


@dataclass(frozen=True)
class Refusal:
    """One refused event: who it claims to come from, what it names, why it was refused."""

    event_id: str
    source: str
    pipeline: str  # a pipeline of governance, else UNKNOWN_PIPELINE
    partition: str | None
    kind: str | None
    digest: str
    reasons: list[str]
    claimed: str  # the resource the event names, escaped


def refuse(services: RunServices, refusal: Refusal) -> EventOutcome:
    """Record the refusal in its burst's incident (opening and paging for a new burst)."""
    ledger = services.ledger
    last = ledger.outcomes.latest_refusal(refusal.pipeline)
    now = datetime.now(UTC)
    if last is not None and last.incident_id is not None and now - last.at < BURST_GAP:
        incident_id = last.incident_id
    else:
        incident_id = _open_burst(services, refusal, now)
    outcome = outcome_now(
        event_id=refusal.event_id,
        outcome=Outcome.REFUSED.value,
        pipeline=refusal.pipeline,
        partition=refusal.partition,
        kind=refusal.kind,
        incident_id=incident_id,
        digest=refusal.digest,
        source=refusal.source,
        detail={"reasons": refusal.reasons, "claimed": refusal.claimed},
    )
    ledger.outcomes.record(outcome)
    return outcome


def _open_burst(services: RunServices, refusal: Refusal, now: datetime) -> int:
    ledger = services.ledger
    incident = ledger.incidents.open(refusal.pipeline, INVALID_EVENT, now, runbook=DOOR)
    detail = {"refused": refusal.reasons, "burst": f"further refusals within {BURST_GAP}"}
    ledger.incidents.record_state(incident.id, IncidentState.CLOSED, actor=DOOR, detail=detail)
    text = (
        f"{refusal.pipeline}: pipeline.failed events from {refusal.source} are being refused "
        f"({'; '.join(refusal.reasons)}); further refusals of this burst are counted on "
        f"incident {incident.id} without another page (`runbook audit {incident.id}`)"
    )
    page_first_responders(services, refusal.pipeline, text, incident.id)
    return incident.id


def page_first_responders(
    services: RunServices, pipeline: str, text: str, incident_id: int
) -> None:
    """Tell whoever answers first for `pipeline` (the team's on-call for unknown pipelines)."""
    config = services.governance
    now = datetime.now(UTC)
    if pipeline in config.pipelines:
        people = first_responders(config, pipeline, now)
    else:
        on_call = on_call_or_none(config, now)
        people = list(on_call.people) if on_call else []
    services.notifier().notify_all(people, INVALID_EVENT, text, incident_id=incident_id)


def shown(text: object) -> str:
    """An untrusted name as stored and shown: invisible characters escaped, bounded."""
    return visible(str(text))[:NAME_MAX]
