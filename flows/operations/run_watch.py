"""Every run watched: a Running run nobody runs is crashed; a crashed incident sync runs again.

The crash watch automation (`crash_watch`) starts watching a run at its first heartbeat, so a
run forced to Running through the API, with no process behind it, would stay Running forever.
And the incident sync that writes a crashed recovery into the ledger is itself a flow run
nobody watched. So, every `WATCH_SECONDS` (beside the event door):

- a Running runbook run with no heartbeat in the last `SILENCE_SECONDS` is set Crashed; the
  incident sync then records it, retries it once and tells people, as for any crash;
- an incident-sync run that ended Crashed or Failed is run again once with the same
  parameters (the sync is idempotent: an ending already recorded is left alone), so the
  recovery's ending is recorded and people told after all; the re-run carries a tag naming
  the run it repeats, so it is never repeated twice.

Only Running runs are looked at for heartbeats, so runs already ended are never touched.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.operations.crash_watch import HEARTBEAT, SILENCE_SECONDS
from flows.operations.incident_sync import RUNBOOK_TAG, SYNC_TAG

logger = logging.getLogger("runbook.run_watch")
WATCH_SECONDS = 30
RERUN_TAG = "sync-rerun-of:"
LOOK_BACK = timedelta(hours=1)  # ended sync runs older than this are not re-run


async def crash_silent_runs(silence: float = SILENCE_SECONDS) -> list[str]:
    """Set Crashed every Running runbook run that sent no heartbeat for `silence` seconds."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    now = datetime.now(UTC)
    crashed = []
    async with get_client() as client:
        for run in await _runs(client, ["RUNNING"], RUNBOOK_TAG):
            began = run.state.timestamp if run.state else run.start_time  # (re)entered Running
            if began is None or now - began < timedelta(seconds=silence):
                continue
            if await _heartbeats(client, str(run.id), now - timedelta(seconds=silence)):
                continue
            message = f"Running with no heartbeat for {silence:.0f} s: no process runs it"
            await client.set_flow_run_state(run.id, Crashed(message=message), force=True)
            crashed.append(str(run.id))
    for run_id in crashed:
        logger.warning("flow run %s was Running with no process: marked Crashed", run_id)
    return crashed


async def rerun_failed_syncs() -> list[str]:
    """Run every crashed or failed incident sync again, once; the ids of the new runs."""
    from prefect.client.orchestration import get_client

    since = datetime.now(UTC) - LOOK_BACK
    made = []
    async with get_client() as client:
        ended = await _runs(client, ["CRASHED", "FAILED"], SYNC_TAG)
        done = {t for r in await _runs(client, None, SYNC_TAG) for t in r.tags}
        for run in ended:
            tag = f"{RERUN_TAG}{run.id}"
            repeat = any(t.startswith(RERUN_TAG) for t in run.tags)
            if tag in done or repeat or not run.deployment_id or (run.created or since) < since:
                continue
            again = await client.create_flow_run_from_deployment(
                run.deployment_id, parameters=run.parameters, tags=[SYNC_TAG, tag]
            )
            made.append(str(again.id))
            logger.warning(
                "incident sync %s ended %s: run again as %s", run.id, run.state_type, again.id
            )
    return made


async def _runs(client: Any, types: list[str] | None, tag: str) -> list[Any]:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    state = (
        FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(t) for t in types]))
        if types
        else None
    )
    wanted = FlowRunFilter(tags=FlowRunFilterTags(all_=[tag]), state=state)
    return await client.read_flow_runs(flow_run_filter=wanted, limit=200)


async def _heartbeats(client: Any, flow_run_id: str, since: datetime) -> int:
    from prefect.events.filters import (
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventResourceFilter,
    )

    heard = EventFilter(
        occurred=EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(minutes=1)),
        event=EventNameFilter(name=[HEARTBEAT]),
        resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
    )
    page = await client.read_events(filter=heard, limit=1)
    return int(page.total)


async def watch_forever(every: float = WATCH_SECONDS) -> None:
    """Both checks now and every `every` seconds; a failed pass is logged and tried again."""
    import anyio

    while True:
        for check in (crash_silent_runs, rerun_failed_syncs):
            try:
                await check()
            except Exception:  # the server may be restarting: the next pass tries again
                logger.exception("%s failed", check.__name__)
        await anyio.sleep(every)
