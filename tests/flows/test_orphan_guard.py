"""A flow-run process whose runner died marks its run Crashed only while it still is the run."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import Running, Suspended

from flows.runtime.orphan_guard import report_orphaned

pytestmark = pytest.mark.prefect


@flow(name="orphan-guard-subject", persist_result=False)
def subject() -> None:
    """Never run: the test only needs runs of a flow to move between states."""


async def a_run_in(state) -> UUID:  # type: ignore[no-untyped-def]
    async with get_client() as client:
        run = await client.create_flow_run(subject)
        await client.set_flow_run_state(run.id, state, force=True)
        return run.id


async def state_name(flow_run_id: UUID) -> str:
    async with get_client() as client:
        state = (await client.read_flow_run(flow_run_id)).state
        assert state is not None
        return state.name


def test_a_running_run_whose_runner_died_is_marked_crashed(prefect_server: None) -> None:
    run = asyncio.run(a_run_in(Running()))
    assert report_orphaned(run) is True
    assert asyncio.run(state_name(run)) == "Crashed"


def test_a_run_suspended_at_its_gate_is_left_waiting_for_its_answer(prefect_server: None) -> None:
    run = asyncio.run(a_run_in(Suspended(timeout_seconds=600, pause_key="approve-1")))
    assert report_orphaned(run) is False
    assert asyncio.run(state_name(run)) == "Suspended"
