"""Every failure event accounted for: opened, attached, refused or a byte-identical duplicate.

The event door calls `account` once per `pipeline.failed` event, in arrival order. It
de-duplicates by the incident's state in the ledger, never by a time window: the key
(pipeline, partition) is held exactly while an incident is open, so a failure after the
incident ended opens a new one at once, and a refused event holds nothing. An event that
finds its key open is attached to that incident, and people are told when it matters: a
new failure kind (the running recovery covers the first kind only), or an incident that
waits for a person (rejected, timed out, failed, needs attention) — never "a recovery is
under way" when none is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.events.contract import (
    EVENT_NAME,
    PARTITION_LABEL,
    RESOURCE_PREFIX,
    FailureEvent,
    InvalidEventError,
    check_failure_event,
)
from flows.events.refusals import UNKNOWN_PIPELINE, Refusal, refuse, shown
from flows.language.triggers import event_matches
from flows.language.validator import ValidatedRunbook
from governance.ledger.outcomes import EventOutcome, Outcome, outcome_now
from governance.ledger.records import Incident, IncidentState
from recovery_tasks.services import RunServices

WAITING_FOR_PERSON = frozenset(
    {
        IncidentState.REJECTED,
        IncidentState.TIMED_OUT,
        IncidentState.FAILED,
        IncidentState.NEEDS_ATTENTION,
        IncidentState.CANCELLED,
    }
)
NEW_FAILURE = "new_failure"


@dataclass(frozen=True)
class Decision:
    """What the door decided. `start` set: open an incident for `event` with a run of `start`."""

    outcome: EventOutcome | None
    event: dict[str, Any]
    start: ValidatedRunbook | None = None
    checked: FailureEvent | None = None
    digest: str = ""


def run_parameter(event: Mapping[str, Any]) -> dict[str, Any]:
    """A Prefect event (JSON) as a recovery's `event` parameter, the shape triggers pass."""
    resource = event.get("resource") or {}
    return {
        "id": str(event.get("id")),
        "event": event.get("event"),
        "occurred": str(event.get("occurred")),
        "resource": {
            "prefect.resource.id": resource.get("prefect.resource.id", ""),
            PARTITION_LABEL: resource.get(PARTITION_LABEL, ""),
        },
        "payload": dict(event.get("payload") or {}),
    }


def digest(event: Mapping[str, Any]) -> str:
    """The event's bytes without its id and time: equal digests are byte-identical failures."""
    body = {"resource": event.get("resource"), "payload": event.get("payload")}
    text = json.dumps(body, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def runbook_for(
    event: Mapping[str, Any], runbooks: Sequence[ValidatedRunbook]
) -> ValidatedRunbook | None:
    """The runbook whose `pipeline.failed` trigger takes the event (None: no runbook does)."""
    for runbook in runbooks:
        for trigger in runbook.spec.on:
            if trigger.event == EVENT_NAME and event_matches(trigger, event):
                return runbook
    return None


def account(
    event: Mapping[str, Any], runbooks: Sequence[ValidatedRunbook], services: RunServices
) -> Decision:
    """Decide one Prefect `pipeline.failed` event (JSON); see the module docstring."""
    parameter = run_parameter(event)
    event_id = parameter["id"]
    if (known := services.ledger.outcomes.of_event(event_id)) is not None:
        return Decision(known, parameter)  # re-delivered: decided before
    runbook = runbook_for(event, runbooks)
    resource_id = str(parameter["resource"]["prefect.resource.id"])
    named = (
        resource_id.removeprefix(RESOURCE_PREFIX)
        if resource_id.startswith(RESOURCE_PREFIX)
        else resource_id
    )
    fingerprint = digest(event)
    try:
        if runbook is None:
            raise InvalidEventError(
                [f"no runbook recovers {shown(resource_id)!r} (unknown pipeline)"]
            )
        checked = check_with(services, parameter, runbook.spec.pipeline)
    except InvalidEventError as refused:
        payload = parameter["payload"]
        refusal = Refusal(
            event_id=event_id,
            source=shown(_source(event)),
            pipeline=named if named in services.governance.pipelines else UNKNOWN_PIPELINE,
            claimed=shown(resource_id),
            partition=shown(payload.get("partition")) if payload.get("partition") else None,
            kind=shown(payload.get("kind")) if payload.get("kind") else None,
            digest=fingerprint,
            reasons=[shown(r) for r in refused.reasons],
        )
        return Decision(refuse(services, refusal), parameter)
    pipeline, partition = runbook.spec.pipeline, checked.payload.partition
    holder = services.ledger.keys.open_incident_of(pipeline, partition)
    if holder is None:
        return Decision(None, parameter, runbook, checked, fingerprint)
    return Decision(attach(services, holder, checked, fingerprint, runbook), parameter)


def check_with(services: RunServices, event: Mapping[str, Any], pipeline: str) -> FailureEvent:
    """The contract with this installation's pipelines, calendar and future grace."""
    warehouse = services.settings.warehouse
    return check_failure_event(
        event,
        pipeline,
        frozenset(services.governance.pipelines),
        warehouse.fiscal_calendar,
        future_grace=timedelta(days=warehouse.future_grace_days),
    )


def attach(
    services: RunServices,
    holder: Incident,
    checked: FailureEvent,
    fingerprint: str,
    runbook: ValidatedRunbook,
) -> EventOutcome:
    """Count the event on the open incident; tell the owners when a person must act."""
    ledger = services.ledger
    fields = {
        "event_id": str(checked.id),
        "pipeline": holder.pipeline,
        "partition": holder.partition,
        "kind": str(checked.payload.kind),
        "incident_id": holder.id,
        "digest": fingerprint,
        "source": None,
    }
    if ledger.outcomes.digest_counted(holder.id, fingerprint):
        outcome = outcome_now(outcome=Outcome.DUPLICATE.value, detail=None, **fields)
        ledger.outcomes.record(outcome)
        return outcome
    kinds = {holder.kind, *(o.kind for o in ledger.outcomes.of_incident(holder.id))}
    state = IncidentState(ledger.incidents.current_state(holder.id))
    told = _tell(services, holder, checked, state, new_kind=str(checked.payload.kind) not in kinds)
    occurred = checked.occurred or datetime.now(UTC)
    detail = {"event_id": fields["event_id"], "kind": fields["kind"], "runbook": runbook.name}
    ledger.incidents.record_state(
        holder.id, IncidentState.EVENT_ATTACHED, at=occurred, detail={**detail, "told": told}
    )
    outcome = outcome_now(
        outcome=Outcome.ATTACHED.value, detail={"state": state.value, "told": told}, **fields
    )
    ledger.outcomes.record(outcome)
    return outcome


def _tell(
    services: RunServices,
    holder: Incident,
    checked: FailureEvent,
    state: IncidentState,
    *,
    new_kind: bool,
) -> str | None:
    """Notify the pipeline's owners when the attached event needs a person; what was said."""
    where = f"{holder.pipeline} {holder.partition}"
    kind = checked.payload.kind
    if state in WAITING_FOR_PERSON:
        why = (
            f"a new {kind} failure of {where} arrived; incident {holder.id} waits for a person "
            f"({state.value}): no recovery is running. Retry it (`runbook retry {holder.id}`) or "
            f"close it (`runbook incidents close {holder.id} --reason ... --as NAME`): the next "
            "failure then opens a new incident"
        )
    elif new_kind:
        why = (
            f"a second failure kind, {kind}, arrived for {where} while incident {holder.id} "
            f"({holder.kind}, {state.value}) recovers; its recovery does not cover {kind}: "
            "check it after this recovery ends"
        )
    else:
        return None
    owners = services.governance.pipeline(holder.pipeline).owners
    services.notifier().notify_all(owners, NEW_FAILURE, why, incident_id=holder.id)
    return why


def opened(
    decision: Decision, incident: Incident, attached: bool, services: RunServices
) -> EventOutcome:
    """Record that the decision's event opened `incident` (or, lost in a race, attached)."""
    assert decision.checked is not None and decision.start is not None
    if attached:
        return attach(services, incident, decision.checked, decision.digest, decision.start)
    outcome = outcome_now(
        event_id=str(decision.checked.id),
        outcome=Outcome.OPENED.value,
        pipeline=incident.pipeline,
        partition=incident.partition,
        kind=incident.kind,
        incident_id=incident.id,
        digest=decision.digest,
        source=None,
        detail={"runbook": decision.start.name, "flow_run_id": incident.flow_run_id},
    )
    services.ledger.outcomes.record(outcome)
    return outcome


def _source(event: Mapping[str, Any]) -> str:
    """Who the event says sent it: the related flow run, else its resource's name, else id."""
    for related in event.get("related") or []:
        if isinstance(related, Mapping) and related.get("prefect.resource.role") == "flow-run":
            return str(related.get("prefect.resource.id"))
    resource = event.get("resource") or {}
    return str(resource.get("prefect.resource.name") or resource.get("prefect.resource.id") or "?")
