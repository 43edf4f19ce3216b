"""The incident sync: what the ledger records for each way a runbook run can end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.server.events.actions import RunDeployment
from prefect.server.events.schemas.events import ReceivedEvent
from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

from flows.operations.crash_watch import HEARTBEAT_SECONDS, SILENCE_SECONDS, crash_watch
from flows.operations.incident_sync import Settlement, settle, sync_trigger_fields
from governance.ledger.records import IncidentState as S


@pytest.mark.parametrize(
    ("ledger_state", "state_type", "message", "crashes", "expected"),
    [
        # the run wrote its own ending: nothing to add
        ("resolved", "COMPLETED", "", 0, None),
        ("failed", "FAILED", "steps failed: rerun", 0, None),
        ("rejected", "FAILED", "rejected by B", 0, None),
        # crashed: retried once, then a person is told
        ("recovering", "CRASHED", "no heartbeat", 0, (S.CRASHED, None, True)),
        ("awaiting_approval", "CRASHED", "", 0, (S.CRASHED, None, True)),
        (
            "recovering",
            "CRASHED",
            "no heartbeat",
            1,
            (S.NEEDS_ATTENTION, "recovery_crashed", False),
        ),
        # cancelled or forced: recorded and told
        ("awaiting_approval", "CANCELLED", "by A", 0, (S.CANCELLED, "recovery_cancelled", False)),
        ("recovering", "FAILED", "forced", 0, (S.FAILED, "recovery_failed", False)),
        ("awaiting_approval", "COMPLETED", "", 0, (S.NEEDS_ATTENTION, "recovery_forced", False)),
        # a suspended gate's deadline passed with no process to notice it
        (
            "awaiting_approval",
            "FAILED",
            "The flow was paused and never resumed.",
            0,
            (S.TIMED_OUT, "approval_timed_out", False),
        ),
        # no incident (the run kept no story): nothing to sync
        (None, "CRASHED", "", 0, None),
    ],
)
def test_each_ending_is_settled_in_the_ledger(
    ledger_state: str | None,
    state_type: str,
    message: str,
    crashes: int,
    expected: tuple[S, str | None, bool] | None,
) -> None:
    settlement = settle(ledger_state, state_type, state_type.title(), message, crashes)
    if expected is None:
        assert settlement == Settlement(None)
        return
    assert (settlement.state, settlement.notify, settlement.retry) == expected
    assert settlement.text  # what the notification and the story say


def sync_trigger() -> DeploymentEventTrigger:
    """The sync's trigger as Prefect builds it from the deployment's fields."""
    return DeploymentEventTrigger(**sync_trigger_fields())


def rendered(resource: dict[str, Any]) -> dict[str, Any]:
    """The trigger's parameters as the Prefect server renders them for this event."""
    parameters = dict(sync_trigger().parameters)
    RunDeployment._upgrade_v1_templates(parameters)
    event = ReceivedEvent(
        occurred=datetime.now(UTC),
        event=f"prefect.flow-run.{resource['prefect.state-name']}",
        resource=resource,
        id="00000000-0000-0000-0000-000000000001",
    )
    context = HydrationContext(
        raise_on_error=True, render_jinja=True, jinja_context={"event": event}
    )
    return hydrate(parameters, context)


def test_the_trigger_hands_the_sync_the_run_and_its_state_even_with_an_odd_message() -> None:
    run = "prefect.flow-run.6f1c3d9e-0000-4000-8000-000000000000"
    crashed = {
        "prefect.resource.id": run,
        "prefect.state-type": "CRASHED",
        "prefect.state-name": "Crashed",
        "prefect.state-message": 'runner gone; "quoted" <b> & {braces}',
    }
    assert rendered(crashed) == {
        "flow_run": run,
        "state_type": "CRASHED",
        "state_name": "Crashed",
        "message": 'runner gone; "quoted" <b> & {braces}',
    }
    completed = {
        "prefect.resource.id": run,
        "prefect.state-type": "COMPLETED",
        "prefect.state-name": "Completed",
    }
    assert rendered(completed)["message"] == ""


def test_the_trigger_watches_only_runbook_runs_reaching_a_terminal_state() -> None:
    trigger = sync_trigger()
    assert trigger.match_related.model_dump() == {  # type: ignore[union-attr]
        "prefect.resource.role": "tag",
        "prefect.resource.id": "prefect.tag.runbook",
    }
    assert sorted(trigger.match.model_dump()["prefect.state-type"]) == [
        "CANCELLED",
        "COMPLETED",
        "CRASHED",
        "FAILED",
    ]


def test_the_crash_watch_waits_three_heartbeats_and_ignores_runs_that_left_their_process() -> None:
    trigger = crash_watch().trigger
    assert SILENCE_SECONDS == 3 * HEARTBEAT_SECONDS
    assert trigger.within.total_seconds() == SILENCE_SECONDS  # type: ignore[union-attr]
    assert trigger.after == {"prefect.flow-run.heartbeat"}  # type: ignore[union-attr]
    waiting = {"prefect.flow-run.Suspended", "prefect.flow-run.Paused", "prefect.flow-run.Resuming"}
    assert waiting <= trigger.expect  # type: ignore[union-attr]


def test_the_crash_watch_expects_every_name_a_runbook_run_ends_under() -> None:
    """Prefect names a state event after the state's name: an ending the watch does not
    expect would be "crashed" after the run's last heartbeat."""
    from prefect.states import Completed

    from flows.events.contract import InvalidEventError
    from flows.events.door import ATTACHED, refused_state

    endings = [refused_state(InvalidEventError(["bad"])), Completed(name=ATTACHED)]
    names = {f"prefect.flow-run.{state.name}" for state in endings}
    names |= {"prefect.flow-run.TimedOut", "prefect.flow-run.Rescheduled"}  # Prefect's, ours
    assert names <= crash_watch().trigger.expect  # type: ignore[union-attr]
