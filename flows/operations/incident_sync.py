"""The incident sync: the ledger follows every way a runbook run can end, not only its own.

A run records how it ends when it can (resolved, failed, rejected, timed out). When it cannot
(its process was killed and the server marked it Crashed, someone cancelled it or forced its
state through the API, a suspended gate's deadline passed with no process to notice), a
Prefect automation on the runbook runs' terminal state events (`sync_trigger`) runs this
small deployment, which writes the end into the ledger through the incident recorder:

- Crashed: retried once, from its last completed step (the run is rescheduled; it restores
  what it finished from the ledger); a second crash marks the incident for a person;
- Cancelled: recorded, the on-call engineer and owners told;
- Failed while waiting for approval (the suspended gate's deadline): timed out, and told;
- any other end the ledger did not hear of (a forced Failed or Completed): recorded and told.

Whatever the outcome, no incident stays open without a live run or a notification; the
incident of another pipeline's partition the run's gate was publishing gets the same end. A
publication the run made while the ledger was away is recorded from the portal's receipts
first (`flows.operations.publication_reconcile`), so such a run's incident ends resolved. An
incident whose run already recorded its end is left alone, so a normal ending costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.states import Scheduled

from flows.approval.escalation import disarm_escalation
from flows.operations.publication_reconcile import reconcile
from flows.runtime.run_services import open_command_services
from governance.incidents.linked import tell_published
from governance.incidents.recorder import IncidentRecorder
from governance.ledger.records import IncidentState
from governance.oncall.responders import notify_targets
from recovery_tasks.services import RunServices

SYNC_NAME = "incident-sync"
SYNC_TAG = "runbook-sync"  # its own runs are not runbook runs: they never trigger it
RUNBOOK_TAG = "runbook"  # the tag every runbook deployment gives its runs
TERMINAL_TYPES = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
RETRIES_AFTER_CRASH = 1
PAUSE_EXPIRED = "never resumed"  # Prefect's message when a pause's deadline passes
# States in which the run has already written its own ending into the ledger.
SETTLED = frozenset(
    {
        IncidentState.FAILED,
        IncidentState.REJECTED,
        IncidentState.TIMED_OUT,
        IncidentState.PUBLISHED,
        IncidentState.RESOLVED,
        IncidentState.CLOSED,
        IncidentState.CANCELLED,
        IncidentState.NEEDS_ATTENTION,
    }
)


@dataclass(frozen=True)
class Settlement:
    """What the sync makes of one ending: the state to record, whom to tell, and whether
    the run is retried."""

    state: IncidentState | None
    notify: str | None = None  # notification reason; None: nobody is told
    retry: bool = False
    text: str = ""


def settle(
    ledger_state: str | None, state_type: str, state_name: str, message: str, crashes: int
) -> Settlement:
    """The settlement of a run that ended in `state_type` while its incident is
    `ledger_state`; `crashes` counts the crashes already recorded for this run."""
    if ledger_state is None or ledger_state in SETTLED:
        return Settlement(None)
    ended = f"{state_name or state_type.title()}" + (f": {message}" if message else "")
    if state_type == "CRASHED":
        if crashes < RETRIES_AFTER_CRASH:
            return Settlement(IncidentState.CRASHED, retry=True, text=ended)
        return Settlement(
            IncidentState.NEEDS_ATTENTION,
            "recovery_crashed",
            text=f"crashed again after a retry ({ended}); nothing more runs on its own",
        )
    if state_type == "CANCELLED":
        return Settlement(
            IncidentState.CANCELLED, "recovery_cancelled", text=f"cancelled ({ended})"
        )
    waiting = ledger_state == IncidentState.AWAITING_APPROVAL
    if state_type == "FAILED" and waiting and PAUSE_EXPIRED in message:
        return Settlement(
            IncidentState.TIMED_OUT,
            "approval_timed_out",
            text="nobody approved before the gate's deadline; nothing was published",
        )
    if state_type == "COMPLETED":
        return Settlement(
            IncidentState.NEEDS_ATTENTION,
            "recovery_forced",
            text=f"marked Completed outside its runbook while {ledger_state}; "
            "nothing more runs on its own",
        )
    return Settlement(
        IncidentState.FAILED, "recovery_failed", text=f"ended {ended} while {ledger_state}"
    )


async def _off_loop(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


@flow(name=SYNC_NAME, persist_result=False, log_prints=False)
async def incident_sync(
    flow_run: str, state_type: str, state_name: str = "", message: str = ""
) -> str:
    """Write how runbook run `flow_run` (`prefect.flow-run.<id>` or the id) ended into its
    incident's story; retry it once after a crash."""
    flow_run_id = flow_run.removeprefix("prefect.flow-run.")
    logger = get_run_logger()
    run = await _read_run(flow_run_id)
    if run.state is None or run.state.type.value != state_type:
        return f"run {flow_run_id} is no longer {state_type}: nothing to sync"
    services = await anyio.to_thread.run_sync(open_command_services)
    try:
        story = await _off_loop(services.story().of_run, flow_run_id)
        if story is None:  # it died before opening its incident: the event is not lost
            if state_type == "CRASHED" and run.run_count <= RETRIES_AFTER_CRASH:
                await _reschedule(flow_run_id)
                return f"run {flow_run_id} crashed before opening its incident: retried"
            return "no incident: nothing to sync"
        assert story.incident_id is not None
        await _off_loop(reconcile, services, story.incident_id)  # receipts the run missed
        current, crashes = await _off_loop(_ledger_view, story)
        settlement = settle(current, state_type, state_name, message, crashes)
        done = await _apply(settlement, story, services, flow_run_id, state_type)
    finally:
        await anyio.to_thread.run_sync(services.close)
    logger.info("incident %s: %s", story.incident_id, done)
    return done


def _ledger_view(story: IncidentRecorder) -> tuple[str | None, int]:
    return story.current_state(), story.crashes()


async def _apply(
    settlement: Settlement,
    story: IncidentRecorder,
    services: RunServices,
    flow_run_id: str,
    state_type: str,
) -> str:
    if settlement.state is None:
        return "the run recorded its own ending"
    detail = {"flow_run_id": flow_run_id, "flow_run_state": state_type, "why": settlement.text}
    if settlement.retry:
        await _off_loop(story.state, IncidentState.CRASHED, detail=detail)
        await _reschedule(flow_run_id)
        await _off_loop(
            story.state,
            IncidentState.RECOVERING,
            detail={"flow_run_id": flow_run_id, "retry": "from the last completed step"},
        )
        return f"crashed; retried from the last completed step ({settlement.text})"
    if state_type == "CRASHED":
        await _off_loop(story.state, IncidentState.CRASHED, detail=detail)
    await _off_loop(story.state, settlement.state, detail=detail)
    await _off_loop(tell_published, story, settlement.state, detail)  # its gate's, if another's
    await disarm_escalation(flow_run_id)
    if settlement.notify is not None:
        await _off_loop(_tell, story, services, settlement)
    return f"{settlement.state}: {settlement.text}"


def _tell(story: IncidentRecorder, services: RunServices, settlement: Settlement) -> None:
    """Tell the on-call engineers and the owners what became of the incident."""
    assert story.incident_id is not None
    incident = story.ledger.incidents.get(story.incident_id)
    targets = notify_targets(services.governance, incident.pipeline, datetime.now(UTC))
    text = (
        f"{incident.pipeline} incident {incident.id}: the recovery run {story.flow_run_id} "
        f"{settlement.text}. The incident stays open: please take it over."
    )
    services.notifier().notify_all(
        [*targets.first, *targets.escalation], str(settlement.notify), text, incident_id=incident.id
    )


async def _read_run(flow_run_id: str) -> Any:
    async with get_client() as client:
        return await client.read_flow_run(UUID(flow_run_id))


async def _reschedule(flow_run_id: str) -> None:
    """Schedule the crashed run again, now: the runner that serves its deployment starts it."""
    async with get_client() as client:
        await client.set_flow_run_state(
            UUID(flow_run_id),
            Scheduled(name="Retrying", message="retried once after a crash"),
            force=True,
        )


def sync_trigger_fields() -> dict[str, Any]:
    """When the sync runs: a runbook run reached a terminal state (its state type as a label)."""
    return {
        "name": "runbook run ended",
        "expect": ["prefect.flow-run.*"],
        "match": {"prefect.state-type": list(TERMINAL_TYPES)},
        "match_related": {
            "prefect.resource.role": "tag",
            "prefect.resource.id": f"prefect.tag.{RUNBOOK_TAG}",
        },
        "parameters": {
            "flow_run": "{{ event.resource.id }}",
            "state_type": "{{ event.resource['prefect.state-type'] }}",
            "state_name": "{{ event.resource['prefect.state-name'] }}",
            # in parentheses: Prefect appends `| tojson`, which would bind to '' alone
            "message": "{{ (event.resource.get('prefect.state-message') or '') }}",
        },
    }
