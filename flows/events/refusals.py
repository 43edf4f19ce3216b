"""Refused failure events: counted, folded into one incident per burst, paged once, limited.

A refusal must cost the sender, not the operator. Each refused event gets its outcome row
(`refused`, with the reasons and the claimed source) and nothing else that grows with the
flood: the first refusal of a burst (per pipeline, every unknown pipeline counting as one, so
varying labels or names does not split it; a burst ends after `RUNBOOK_REFUSAL_WINDOW_SECONDS`
of quiet) records one `invalid_event` incident, closed at once so it shows no SLA clock on the
board, and pages the on-call engineer once; later refusals of the burst are counted on that
incident. Refusals are rate-limited per source and per pipeline: past
`RUNBOOK_REFUSALS_PER_SOURCE` refusals of one source, or `RUNBOOK_REFUSALS_PER_PIPELINE` of
the pipeline, in one burst, an event is still counted on the burst (accounted for) but its
reasons and claims are not kept. The limits act only on events already refused: a genuine
event is checked on its own bytes, whoever claims to send it. A refusal claims no partition
key, so it can never stand in a genuine failure's way.
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
    limits = services.settings.operations
    window = timedelta(seconds=limits.refusal_window_seconds)
    last = ledger.outcomes.latest_refusal(refusal.pipeline)
    now = datetime.now(UTC)
    over = None
    if last is not None and last.incident_id is not None and now - last.at < window:
        incident_id = last.incident_id
        over = over_limit(services, incident_id, refusal)
    else:
        incident_id = _open_burst(services, refusal, window)
    detail = (
        {"reasons": refusal.reasons, "claimed": refusal.claimed}
        if over is None
        else {"limited": over}
    )
    outcome = outcome_now(
        event_id=refusal.event_id,
        outcome=Outcome.REFUSED.value,
        pipeline=refusal.pipeline,
        partition=refusal.partition if over is None else None,
        kind=refusal.kind if over is None else None,
        incident_id=incident_id,
        digest=refusal.digest,
        source=refusal.source,
        detail=detail,
    )
    ledger.outcomes.record(outcome)
    return outcome


def over_limit(services: RunServices, incident_id: int, refusal: Refusal) -> str | None:
    """Why this refusal is past the burst's limits (None: within them, kept in full)."""
    limits = services.settings.operations
    per_source, per_pipeline = limits.refusals_per_source, limits.refusals_per_pipeline
    cap = max(per_source, per_pipeline)
    by_source, in_all = services.ledger.outcomes.refusals_in_burst(incident_id, refusal.source, cap)
    if by_source >= per_source:
        return f"more than {per_source} refusals of source {refusal.source} in this burst"
    if in_all >= per_pipeline:
        return f"more than {per_pipeline} refusals of {refusal.pipeline} in this burst"
    return None


def _open_burst(services: RunServices, refusal: Refusal, window: timedelta) -> int:
    ledger = services.ledger
    incident = ledger.incidents.open(
        refusal.pipeline, INVALID_EVENT, datetime.now(UTC), runbook=DOOR
    )
    detail = {"refused": refusal.reasons, "burst": f"further refusals within {window}"}
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
