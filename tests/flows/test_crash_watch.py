"""The crash watch on a real server: a run that ended under one of the names a runbook run
ends with is left alone; a run whose heartbeats stopped with no ending is marked Crashed."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.events import Event
from prefect.events.clients import get_events_client
from prefect.states import Completed, Running, State

from flows.events.contract import InvalidEventError
from flows.events.door import ATTACHED, refused_state
from flows.operations.crash_watch import HEARTBEAT, silence_watch

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]
SILENCE = 10  # seconds; Prefect evaluates proactive triggers every few seconds


@flow(name="watched-by-the-crash-watch")
def watched() -> None:
    """A stand-in recovery (never run here: its runs only get states and heartbeats)."""


async def _beating_run(tag: str):  # type: ignore[no-untyped-def]
    async with get_client() as client:
        run = await client.create_flow_run(watched, tags=[tag])
        await client.set_flow_run_state(run.id, Running(), force=True)
    tagged = {"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"}
    heartbeat = Event(
        event=HEARTBEAT,
        resource={"prefect.resource.id": f"prefect.flow-run.{run.id}"},
        related=[tagged],
    )
    async with get_events_client() as events:
        await events.emit(heartbeat)
    return run


async def _end(run_id, state: State) -> None:  # type: ignore[no-untyped-def]
    async with get_client() as client:
        await client.set_flow_run_state(run_id, state, force=True)


async def _state(run_id):  # type: ignore[no-untyped-def]
    async with get_client() as client:
        return (await client.read_flow_run(run_id)).state


def test_runs_ended_as_attached_or_refused_are_left_and_a_silent_one_is_crashed(
    prefect_server: None,
) -> None:
    tag = f"crash-watch-{uuid.uuid4().hex[:8]}"
    automation = silence_watch(
        f"test-crash-watch-{tag}",
        "test",
        {"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{tag}"},
        SILENCE,
    )
    automation_id = automation.create().id
    try:
        time.sleep(5)  # the trigger service loads the new automation
        attached = asyncio.run(_beating_run(tag))
        refused = asyncio.run(_beating_run(tag))
        silent = asyncio.run(_beating_run(tag))
        asyncio.run(_end(attached.id, Completed(name=ATTACHED)))
        asyncio.run(_end(refused.id, refused_state(InvalidEventError(["bad"]))))
        deadline = time.monotonic() + 120
        while not asyncio.run(_state(silent.id)).is_crashed():
            assert time.monotonic() < deadline, "the silent run was never marked Crashed"
            time.sleep(2)
        while not asyncio.run(_acted_on(silent.id)):  # what a firing leaves on record
            assert time.monotonic() < deadline, "the firing left no action event"
            time.sleep(2)
        time.sleep(SILENCE)  # the ended runs' windows closed at least as long ago
        assert asyncio.run(_acted_on(attached.id)) == 0
        assert asyncio.run(_acted_on(refused.id)) == 0
        assert asyncio.run(_state(attached.id)).name == ATTACHED
        assert asyncio.run(_state(refused.id)).name == "Refused"
    finally:
        asyncio.run(_delete(automation_id))


async def _acted_on(run_id) -> int:  # type: ignore[no-untyped-def]
    """How many automation actions targeted the run (a firing on an ended run fails, with a
    warning in the server's log, and leaves an `action.failed` event)."""
    from prefect.events.filters import (
        EventAnyResourceFilter,
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
    )

    since = datetime.now(UTC) - timedelta(minutes=10)
    acted = EventFilter(
        occurred=EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(minutes=1)),
        event=EventNameFilter(prefix=["prefect.automation.action."]),
        any_resource=EventAnyResourceFilter(id=[f"prefect.flow-run.{run_id}"]),
    )
    async with get_client() as client:
        return int((await client.read_events(filter=acted, limit=1)).total)


async def _delete(automation_id) -> None:  # type: ignore[no-untyped-def]
    async with get_client() as client:
        await client.delete_automation(automation_id)
