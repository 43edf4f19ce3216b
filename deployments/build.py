"""Deployments of the runbooks, with the event triggers their `on:` lists.

Each trigger becomes a Prefect `DeploymentEventTrigger`: when a matching event arrives, the
server creates a run of the runbook's deployment with the event passed as the `event`
parameter (id as a string: a bare UUID would not render as JSON and the run would silently
not be created).
"""

from __future__ import annotations

import copy
from typing import Any

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from deployments.entrypoints import entrypoint_flow
from flows.language.models import Trigger
from flows.language.validator import ValidatedRunbook

EVENT_PARAMETER = {
    "id": "{{ event.id | string }}",
    "event": "{{ event.event }}",
    "occurred": "{{ event.occurred | string }}",
    "resource": {"prefect.resource.id": "{{ event.resource.id }}"},
    "payload": "{{ event.payload }}",
}


def deployment_triggers(triggers: list[Trigger]) -> list[DeploymentEventTrigger]:
    """One Prefect trigger per `on:` entry, passing the event to the run."""
    return [
        DeploymentEventTrigger(
            name=f"on {t.event}",
            expect={t.event},
            match=dict(t.match),
            match_related=dict(t.match_related) if t.match_related else {},
            parameters={"event": copy.deepcopy(EVENT_PARAMETER)},
        )
        for t in triggers
    ]


def runbook_deployment(runbook: ValidatedRunbook, **kwargs: Any) -> RunnerDeployment:
    """The deployment of one runbook (`name` = the runbook's name)."""
    return entrypoint_flow(runbook).to_deployment(
        name=runbook.name,
        description=runbook.spec.description or None,
        tags=["runbook", runbook.spec.pipeline],
        triggers=deployment_triggers(list(runbook.spec.on)),
        entrypoint_type=EntrypointType.MODULE_PATH,
        **kwargs,
    )
