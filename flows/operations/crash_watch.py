"""Crash detection for runbook runs: heartbeats, and an automation that notices they stopped.

A runbook run's process sends a heartbeat event every `HEARTBEAT_SECONDS` (`runbook serve`
sets its runner's heartbeat; Prefect's floor is 30 s). If the process is killed (the serving
machine, `serve` or a worker dies, an OOM kill), nobody reports the run's end and it would
stay Running forever. The automation below, Prefect's "zombie" detection, expects after each
heartbeat either another one or an ending within `SILENCE_SECONDS`; when neither comes it
marks the run Crashed, and the incident sync (`flows.operations.incident_sync`) takes it from there.

Waiting states are endings too: a suspended gate has no process and sends no heartbeats,
and a rescheduled run is not running yet. Prefect names a state event after the state's
*name*, not its type, so every name a runbook run can end or wait under is expected, the
door's own (`Attached`, `Refused`) and Prefect's `TimedOut` among them: a run that ended
under a name missing here would be "crashed" 90 s after its last heartbeat (the server
refusing it, with a warning). A Running run whose heartbeats never start is the run
watch's (`run_watch`). Only runs of runbook deployments (tag `runbook`)
are watched: a run started by hand (`runbook run`) has no heartbeat setting of ours.
"""

from __future__ import annotations

from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture

from flows.events.door import ATTACHED, REFUSED
from flows.operations.incident_sync import RUNBOOK_TAG

NAME = "runbook-crash-watch"
HEARTBEAT_SECONDS = 30  # the default of `RUNBOOK_HEARTBEAT_SECONDS`
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
            "TimedOut",
            "Late",
            "AwaitingConcurrencySlot",
            "Rescheduled",
            ATTACHED,
            REFUSED,
        )
    ),
}


def crash_watch(silence_seconds: int = SILENCE_SECONDS) -> Automation:
    """The automation marking a runbook run Crashed after `silence_seconds` without a heartbeat."""
    return silence_watch(
        NAME,
        "Mark a runbook run Crashed when its heartbeats stop (its process is gone)",
        {"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{RUNBOOK_TAG}"},
        silence_seconds,
    )


def silence_watch(
    name: str, description: str, watched: dict[str, str | list[str]], silence_seconds: int
) -> Automation:
    """An automation marking a run Crashed after `silence_seconds` without a heartbeat, for the
    runs whose related resources match `watched` (a tag, a flow's name)."""
    return Automation(
        name=name,
        description=description,
        trigger=silence_after({HEARTBEAT}, NOT_RUNNING_HERE, watched, silence_seconds),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {silence_seconds} s: the process running it is gone",
            )
        ],
    )


def silence_after(
    after: set[str], expect: set[str], watched: dict[str, str | list[str]], seconds: int
) -> EventTrigger:
    """A proactive trigger per flow run: after one of `after`, none of `expect` in `seconds`."""
    return EventTrigger(
        posture=Posture.Proactive,
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related=watched,
        after=after,
        expect=expect,
        for_each={"prefect.resource.id"},
        within=timedelta(seconds=seconds),
        threshold=1,
    )


PENDING_NAME = "runbook-pending-watch"
PENDING_SECONDS = 300  # the default of `RUNBOOK_PENDING_SILENCE_SECONDS`
TAKEN = {"prefect.flow-run.Pending", "prefect.flow-run.Submitting"}
"""A worker takes a run by moving it to a PENDING state named Submitting (Prefect 3.9)."""
LEFT_PENDING = {
    f"prefect.flow-run.{name}"
    for name in (
        "Running",
        "Completed",
        "Failed",
        "Crashed",
        "Cancelled",
        "Cancelling",
        "Scheduled",
        "AwaitingConcurrencySlot",
        "Paused",
        "Suspended",
    )
}


def pending_watch(silence_seconds: int = PENDING_SECONDS) -> Automation:
    """The automation handing a runbook run back to the pool when it stays Pending.

    A worker marks a run Pending, then starts its process; a worker killed in between leaves
    the run Pending with no process and no heartbeat, so the crash watch never sees it. After
    `silence_seconds` without the run moving on, it is Scheduled again and any worker takes it.
    """
    runbook_runs: dict[str, str | list[str]] = {
        "prefect.resource.role": "tag",
        "prefect.resource.id": f"prefect.tag.{RUNBOOK_TAG}",
    }
    return Automation(
        name=PENDING_NAME,
        description="Schedule again a runbook run left Pending (its worker died before it began)",
        trigger=silence_after(TAKEN, LEFT_PENDING, runbook_runs, silence_seconds),
        actions=[
            ChangeFlowRunState(
                state=StateType.SCHEDULED,
                name="Rescheduled",
                message=f"still Pending after {silence_seconds} s: its worker died before "
                "starting it; handed back to the pool",
            )
        ],
    )
