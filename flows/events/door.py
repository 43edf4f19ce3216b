"""The door of every recovery run: check the failure event, then open or attach its incident.

Runs before any step. A `pipeline.failed` event that breaks the contract is refused at once:
an incident of kind `invalid_event` is recorded with the reasons, the pipeline's on-call
engineer is notified, and the run ends `Refused` (Failed) with the terminal InvalidEventError
(no retry: bad input does not get better). A valid event that came through Prefect (it has
an id) opens the incident of its (pipeline, partition) and claims that key in the ledger; if
the key is already open, the event is attached to that incident and the run ends Completed,
having started nothing.
Runs started by hand (no event id) are not de-duplicated: they open an incident of their own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import anyio
from prefect import get_run_logger
from prefect.states import Completed, Failed, State

from flows.events.accounting import check_with
from flows.events.contract import (
    NAME_MAX,
    FailureEvent,
    InvalidEventError,
    is_failure_event,
    unpack_payload,
)
from flows.events.refusals import INVALID_EVENT, page_first_responders
from flows.language.validator import ValidatedRunbook
from governance.incidents.reference import IncidentRef
from governance.ledger.records import IncidentState
from recovery_tasks.services import RunServices

ATTACHED = "Attached"  # the name of the Completed state of a run whose event was attached
REFUSED = "Refused"  # the name of the Failed state of a run whose event was refused


@dataclass(frozen=True)
class Admission:
    """What the door decided: the event (payload decoded), the incident the run works on
    (None: the run opens its own, or keeps no story), or a final state."""

    event: dict[str, Any]
    incident: IncidentRef | None = None
    final: State | None = None  # set: the run ends here with this state


async def admit(
    runbook: ValidatedRunbook,
    event: dict[str, Any],
    services: RunServices,
    flow_run_id: str | None,
) -> Admission:
    """Check the event and claim its incident key.

    A refused event ends the run `Refused` (a Failed state whose data is the terminal
    InvalidEventError), after its refusal is recorded and on-call notified.
    """
    pipeline = runbook.spec.pipeline
    try:
        event = unpack_payload(event)
        if not is_failure_event(event):
            return Admission(event)
        checked = check_with(services, event, pipeline)
    except InvalidEventError as refused:
        get_run_logger().error("refused: %s", refused)
        if services.recorder.keeps_story:
            record = functools.partial(
                record_refusal, services, runbook.name, pipeline, event, flow_run_id, refused
            )
            await anyio.to_thread.run_sync(record)
        return Admission(event, final=refused_state(refused))
    if not services.recorder.keeps_story or checked.id is None:
        return Admission(event)
    claim = await anyio.to_thread.run_sync(
        services.recorder.claim,
        runbook.name,
        pipeline,
        event,
        checked.payload.partition,
        flow_run_id,
    )
    if not claim.attached:
        return Admission(event, claim.incident)
    message = _attached_message(checked, claim.incident)
    get_run_logger().info(message)
    return Admission(event, claim.incident, Completed(name=ATTACHED, message=message))


def refused_state(refused: InvalidEventError) -> State:
    """The final state of a run whose event was refused: Failed, named so, never retried."""
    return Failed(name=REFUSED, message=str(refused), data=refused)


def _attached_message(event: FailureEvent, incident: IncidentRef) -> str:
    opened = incident.opened_at.isoformat()
    return (
        f"{event.payload.kind} of {incident.pipeline} {event.payload.partition} attached to "
        f"open incident {incident.id} ({incident.kind}, opened {opened}); "
        "this run starts nothing (the incident's own run or a person finishes it)"
    )


def record_refusal(
    services: RunServices,
    runbook: str,
    pipeline: str,
    event: dict[str, Any],
    flow_run_id: str | None,
    refused: InvalidEventError,
) -> int | None:
    """Record the refused event as an `invalid_event` incident and notify on-call; its id."""
    recorder = services.recorder
    safe = safe_event(event)
    incident = recorder.open(runbook, pipeline, safe, {}, flow_run_id, kind=INVALID_EVENT)
    recorder.state(IncidentState.FAILED, detail={"refused": refused.reasons})
    text = f"{pipeline}: a pipeline.failed event was refused ({'; '.join(refused.reasons)})"
    page_first_responders(services, pipeline, text, incident.id)
    return incident.id


def safe_event(event: dict[str, Any]) -> dict[str, Any]:
    """The parts of an untrusted event the ledger keeps: id and time, bounded; no payload."""
    event_id = event.get("id")
    occurred = event.get("occurred")
    return {
        "id": str(event_id)[:NAME_MAX] if event_id else None,
        "event": str(event.get("event"))[:NAME_MAX],
        "occurred": occurred if isinstance(occurred, str) and len(occurred) < 64 else None,
        "payload": {},
    }
