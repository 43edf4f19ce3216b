"""Every run watched: a run Running with no process ends Crashed; a crashed incident sync
runs again, once; runs already ended are left alone."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import Completed, Crashed, Running

from flows.operations.incident_sync import RUNBOOK_TAG, SYNC_TAG
from flows.operations.run_watch import RERUN_TAG, crash_silent_runs, rerun_failed_syncs

pytestmark = pytest.mark.prefect


@flow(name="watched-recovery")
def watched() -> None:
    """A stand-in recovery (never run here: its runs only get states)."""


async def _run_in(state, tags: list[str], deployment: bool = False):  # type: ignore[no-untyped-def]
    async with get_client() as client:
        flow_id = await client.create_flow(watched)
        if deployment:
            deployment_id = await client.create_deployment(flow_id, f"d-{uuid.uuid4().hex[:8]}")
            run = await client.create_flow_run_from_deployment(deployment_id, tags=tags)
        else:
            run = await client.create_flow_run(watched, tags=tags)
        await client.set_flow_run_state(run.id, state, force=True)
        return run


async def _state(run_id):  # type: ignore[no-untyped-def]
    async with get_client() as client:
        return (await client.read_flow_run(run_id)).state


def test_a_run_forced_running_without_a_process_is_crashed_and_ended_runs_are_left(
    prefect_server: None,
) -> None:
    forced = asyncio.run(_run_in(Running(), [RUNBOOK_TAG]))
    ended = asyncio.run(_run_in(Completed(), [RUNBOOK_TAG]))
    time.sleep(1.5)
    crashed = asyncio.run(crash_silent_runs(silence=1))
    assert str(forced.id) in crashed and str(ended.id) not in crashed
    state = asyncio.run(_state(forced.id))
    assert state.is_crashed() and "no process runs it" in str(state.message)
    assert asyncio.run(_state(ended.id)).is_completed()


def test_a_crashed_incident_sync_runs_again_once(prefect_server: None) -> None:
    sync = asyncio.run(_run_in(Crashed(), [SYNC_TAG], deployment=True))
    again = asyncio.run(rerun_failed_syncs())

    async def tags(run_id: str) -> list[str]:
        async with get_client() as client:
            return (await client.read_flow_run(run_id)).tags

    mine = [r for r in again if f"{RERUN_TAG}{sync.id}" in asyncio.run(tags(r))]
    assert len(mine) == 1
    assert asyncio.run(rerun_failed_syncs()) == []  # never repeated twice
