"""Crash detection for runbook runs: heartbeats, and an automation that notices they stopped.

A runbook run's process sends a heartbeat event every `HEARTBEAT_SECONDS` (`runbook serve`
sets its runner's heartbeat; Prefect's floor is 30 s). If the process is killed (the serving
machine, `serve` or a worker dies, an OOM kill), nobody reports the run's end and it would
stay Running forever. The automation below, Prefect's "zombie" detection, expects after each
heartbeat either another one or an ending within `SILENCE_SECONDS`; when neither comes it
marks the run Crashed, and the incident sync (`flows.incident_sync`) takes it from there.

Waiting states are endings too: a suspended gate has no process and sends no heartbeats,
and a rescheduled run is not running yet. Only runs of runbook deployments (tag `runbook`)
are watched: a run started by hand (`runbook run`) has no heartbeat setting of ours.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect.automations import Automation
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture

from flows.incident_sync import RUNBOOK_TAG

NAME = "runbook-crash-watch"
HEARTBEAT_SECONDS = 30
SILENCE_SECONDS = 3 * HEARTBEAT_SECONDS  # three missed heartbeats: the process is gone
HEARTBEAT = "prefect.flow-run.heartbeat"
NOT_RUNNING_HERE = {
    HEARTBEAT,
    *(
        f"prefect.flow-run.{name}"
        for name in (
            "Completed",
            "Failed",
            "Crashed",
            "Cancelled",
            "Cancelling",
            "Rejected",
            "Paused",
            "Suspended",
            "Scheduled",
            "Resuming",
            "Retrying",
            "AwaitingRetry",
        )
    ),
}


def crash_watch() -> Automation:
    """The automation marking a runbook run Crashed when its heartbeats stop."""
    return Automation(
        name=NAME,
        description="Mark a runbook run Crashed when its heartbeats stop (its process is gone)",
        trigger=EventTrigger(
            posture=Posture.Proactive,
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={
                "prefect.resource.role": "tag",
                "prefect.resource.id": f"prefect.tag.{RUNBOOK_TAG}",
            },
            after={HEARTBEAT},
            expect=NOT_RUNNING_HERE,
            for_each={"prefect.resource.id"},
            within=timedelta(seconds=SILENCE_SECONDS),
            threshold=1,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {SILENCE_SECONDS} s: the process running it is gone",
            )
        ],
    )


async def ensure_crash_watch() -> str:
    """Create the automation, or bring the existing one up to date; say which.

    An automation left as it is keeps the heartbeats it has seen: rewriting it on every
    `serve` start would forget them, and a run killed just before a restart would never be
    noticed. So it is updated only when its definition changed.
    """
    wanted = crash_watch()
    async with get_client() as client:
        existing = await client.read_automations_by_name(NAME)
        for extra in existing[1:]:  # two serve processes started at once: keep one
            await client.delete_automation(extra.id)
    if not existing:
        await wanted.acreate()
        return "created"
    if _definition(existing[0]) == _definition(wanted):
        return "in place"
    wanted.id = existing[0].id
    await wanted.aupdate()
    return "updated"


def _definition(automation: Any) -> Any:
    """What the automation does, comparable across reads (sets come back in any order)."""
    return _canonical(
        {
            "description": automation.description,
            "enabled": automation.enabled,
            "trigger": automation.trigger.model_dump(mode="json"),
            "actions": [a.model_dump(mode="json") for a in automation.actions],
        }
    )


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=repr)
    return value
