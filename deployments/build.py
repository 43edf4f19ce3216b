"""Deployments of the runbooks, with the event triggers their `on:` lists, and the intake.

Each trigger becomes a Prefect `DeploymentEventTrigger`: when a matching event arrives, the
server creates a run of the runbook's deployment with the event passed as the `event`
parameter (id as a string: a bare UUID would not render as JSON and the run would silently
not be created).

`pipeline.failed` events are decided by the event door (`flows/events/event_door.py`), not
by triggers: a trigger's de-duplication window swallows genuine failures (any event of the
partition fills it, a refused one too), and a trigger without one costs a flow-run process
per event. So the runbooks' `pipeline.failed` triggers and the intake's are written but
disabled (the door creates those runs, one per incident it opens); other events (e.g.
`prefect.flow-run.Failed` of a pipeline flow) still start runs through their trigger.
Each deployment runs at most `RUNS_PER_DEPLOYMENT` at once; further runs wait in the queue
(`ENQUEUE`, state AwaitingConcurrencySlot) instead of starting a process each.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from deployments.entrypoints import entrypoint_flow
from flows.events.contract import EVENT_NAME, PARTITION_LABEL, PAYLOAD_CUT, PAYLOAD_JSON
from flows.events.intake import (
    INTAKE_EVENT_PARAMETER,
    INTAKE_NAME,
    claimed_resources,
    pipeline_failed_intake,
)
from flows.language.models import Trigger
from flows.language.validator import ValidatedRunbook

DEDUP_WINDOW = timedelta(seconds=60)
RUNS_PER_DEPLOYMENT = 4

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


def deployment_triggers(triggers: list[Trigger]) -> list[DeploymentEventTrigger]:
    """One Prefect trigger per `on:` entry, passing the event to the run."""
    return [DeploymentEventTrigger(**trigger_fields(t)) for t in triggers]


def run_limit() -> ConcurrencyLimitConfig:
    """At most RUNS_PER_DEPLOYMENT runs at once; the rest wait their turn (not cancelled)."""
    return ConcurrencyLimitConfig(
        limit=RUNS_PER_DEPLOYMENT, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
    )


def runbook_deployment(runbook: ValidatedRunbook, **kwargs: Any) -> RunnerDeployment:
    """The deployment of one runbook (`name` = the runbook's name)."""
    return entrypoint_flow(runbook).to_deployment(
        name=runbook.name,
        description=runbook.spec.description or None,
        tags=["runbook", runbook.spec.pipeline],
        triggers=deployment_triggers(list(runbook.spec.on)),
        concurrency_limit=run_limit(),
        entrypoint_type=EntrypointType.MODULE_PATH,
        **kwargs,
    )


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


def intake_deployment(runbooks: list[ValidatedRunbook], **kwargs: Any) -> RunnerDeployment:
    """The deployment recording `pipeline.failed` events no runbook can take."""
    return pipeline_failed_intake.to_deployment(
        name=INTAKE_NAME,
        description="Record pipeline.failed events no runbook takes (unknown pipeline) and "
        "notify on-call",
        tags=["runbook", "intake"],
        parameters={"claimed": runbook_resources(runbooks)},
        triggers=[DeploymentEventTrigger(**intake_trigger_fields())],
        concurrency_limit=run_limit(),
        entrypoint_type=EntrypointType.MODULE_PATH,
        **kwargs,
    )
