"""The event triggers of the runbooks' deployments (their `on:` lists) and of the intake.

Each trigger becomes a Prefect `DeploymentEventTrigger`: when a matching event arrives, the
server creates a run of the runbook's deployment with the event passed as the `event`
parameter (id as a string: a bare UUID would not render as JSON and the run would silently
not be created).

`pipeline.failed` events are decided by the event door (`flows/operations/event_door.py`), not
by triggers: a trigger's de-duplication window swallows genuine failures (any event of the
partition fills it, a refused one too), and a trigger without one costs a flow-run process
per event. So the runbooks' `pipeline.failed` triggers and the intake's are written but
disabled (the door creates those runs, one per incident it opens); other events (e.g.
`prefect.flow-run.Failed` of a pipeline flow) still start runs through their trigger.
Each deployment runs at most `RUNS_PER_DEPLOYMENT` at once (`deployments.application`);
further runs wait in the queue (`ENQUEUE`, state AwaitingConcurrencySlot) instead of
starting a process each.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from flows.events.contract import EVENT_NAME, PARTITION_LABEL, PAYLOAD_CUT, PAYLOAD_JSON
from flows.language.models import Trigger
from flows.language.validator import ValidatedRunbook
from flows.operations.intake import INTAKE_EVENT_PARAMETER, claimed_resources

DEDUP_WINDOW = timedelta(seconds=60)

EVENT_PARAMETER = {
    "id": "{{ event.id | string }}",
    "event": "{{ event.event }}",
    "occurred": "{{ event.occurred | string }}",
    "resource": {
        "prefect.resource.id": "{{ event.resource.id }}",
        PARTITION_LABEL: f"{{{{ event.resource['{PARTITION_LABEL}'] | default('') }}}}",
    },
    PAYLOAD_JSON: f"{{{{ event.payload | tojson | truncate({PAYLOAD_CUT}, true, '', 0) }}}}",
}
"""The run's `event` parameter. The payload travels as its JSON text, cut at PAYLOAD_CUT, so a
huge payload still creates a run whose door refuses it on record (`contract.unpack_payload`)."""


def for_each(event: str) -> set[str]:
    """The labels a trigger of `event` counts separately: failures per pipeline and partition."""
    return (
        {"prefect.resource.id", PARTITION_LABEL} if event == EVENT_NAME else {"prefect.resource.id"}
    )


def door_takes(event: str) -> bool:
    """Whether the event door, not a trigger, starts the runs of `event`."""
    return event == EVENT_NAME


def trigger_fields(t: Trigger) -> dict[str, Any]:
    """The fields of one `on:` entry's trigger, as Prefect takes them (shared with prefect.yaml)."""
    return {
        "name": f"on {t.event}",
        "enabled": not door_takes(t.event),
        "expect": [t.event],
        "match": dict(t.match),
        **({"match_related": dict(t.match_related)} if t.match_related else {}),
        "for_each": sorted(for_each(t.event)),
        "posture": "Reactive",
        "threshold": 1,
        "within": int(DEDUP_WINDOW.total_seconds()),
        "parameters": {"event": copy.deepcopy(EVENT_PARAMETER)},
    }


def runbook_resources(runbooks: list[ValidatedRunbook]) -> list[str]:
    """The resource ids the runbooks' `pipeline.failed` triggers take (the intake's `claimed`)."""
    return claimed_resources([(t.event, dict(t.match)) for r in runbooks for t in r.spec.on])


def intake_trigger_fields() -> dict[str, Any]:
    """The intake's trigger, disabled: the event door refuses events no runbook takes."""
    return {
        "name": f"on {EVENT_NAME} (intake)",
        "enabled": not door_takes(EVENT_NAME),
        "expect": [EVENT_NAME],
        "for_each": ["prefect.resource.id"],
        "posture": "Reactive",
        "threshold": 1,
        "within": int(DEDUP_WINDOW.total_seconds()),
        "parameters": {"event": copy.deepcopy(INTAKE_EVENT_PARAMETER)},
    }
