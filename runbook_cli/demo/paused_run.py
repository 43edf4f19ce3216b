"""Find the demo's recovery run once it waits at its gate, with the evidence it shows.

What an engineer does in the Prefect UI, through Prefect's client: look for the runbook's newest
run, see that it is Paused, read the description above its Resume form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import anyio
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterStartTime,
)
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import PrefectHTTPStatusError

from runbook_cli.demo.errors import DemoError


async def wait_for_gate(
    flow_name: str, started: datetime, finished: Callable[[], bool], limit: float = 600
) -> tuple[str, str]:
    """The id of the newest run of `flow_name` once it is paused at its gate, and its evidence.

    `finished` says whether the run already ended (then it never reached the gate).
    """
    async with get_client() as client:
        with anyio.move_on_after(limit):
            while True:
                found = await _paused_run(client, flow_name, started)
                if found:
                    return found
                if finished():
                    raise DemoError("the recovery ended before reaching its approval gate")
                await anyio.sleep(1)
    raise DemoError(f"the recovery did not reach its approval gate in {limit / 60:.0f} minutes")


async def _paused_run(
    client: PrefectClient, flow_name: str, started: datetime
) -> tuple[str, str] | None:
    runs = await client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
        flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=started)),
        sort=FlowRunSort.START_TIME_DESC,
        limit=1,
    )
    for run in runs:
        if run.state and run.state.is_paused():
            keyset = run.state.state_details.run_input_keyset or {}
            text = await _run_input(client, run.id, keyset.get("description", ""))
            if text:  # the form and its evidence are saved just after the pause
                return str(run.id), str(text)
    return None


async def _run_input(client: PrefectClient, flow_run_id: object, key: str) -> object:
    if not key:
        return None
    try:
        raw = await client.read_flow_run_input(flow_run_id, key)  # type: ignore[arg-type]
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code == 404:
            return None
        raise
    return json.loads(raw)
