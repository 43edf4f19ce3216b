"""Partition locks whose holder is gone are taken back.

A partition lock is a one-slot global concurrency limit held through a lease. Prefect keeps
leases in the server's memory unless told otherwise (`PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE`;
the local server and the production profile use the filesystem module), while the slot count
lives in the database: a server restart then forgets the lease, the holder's release finds
nothing, and the slot stays taken, so every later recovery of that partition waits forever.
A lock is only ever held by a Running recovery of its partition (never across a gate), so a
limit with a taken slot and no such run is reclaimed: at the event door's start and every
`RECLAIM_SECONDS` after.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flows.events.contract import PARTITION_LABEL, RESOURCE_PREFIX
from flows.events.partition_lock import PREFIX, limit_name

logger = logging.getLogger("runbook.lock_reclaim")
RECLAIM_SECONDS = 60
PAGE = 200


def held_by(parameters: Mapping[str, Any]) -> str | None:
    """The partition lock a run with these parameters may hold (None: none)."""
    event = parameters.get("event")
    if not isinstance(event, Mapping):
        return None
    resource = event.get("resource") or {}
    payload = event.get("payload") or {}
    pipeline = str(resource.get("prefect.resource.id", "")).removeprefix(RESOURCE_PREFIX)
    partition = resource.get(PARTITION_LABEL) or (
        payload.get("partition") if isinstance(payload, Mapping) else None
    )
    return limit_name(pipeline, str(partition)) if pipeline and partition else None


async def reclaim_partition_locks() -> list[str]:
    """Free every partition lock no Running run can hold; the names freed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    freed = []
    async with get_client() as client:
        taken = [limit.name for limit in await _partition_limits(client) if limit.active_slots > 0]
        if not taken:
            return []
        live = {held_by(run.parameters) for run in await _running(client)}
        for name in taken:
            if name in live:
                continue
            await client.update_global_concurrency_limit(
                name, GlobalConcurrencyLimitUpdate(active_slots=0)
            )
            freed.append(name)
    for name in freed:
        logger.warning("partition lock %s had no live holder: reclaimed", name)
    return freed


async def _partition_limits(client: Any) -> list[Any]:
    limits: list[Any] = []
    while True:
        page = await client.read_global_concurrency_limits(limit=PAGE, offset=len(limits))
        limits += page
        if len(page) < PAGE:
            return [limit for limit in limits if limit.name.startswith(f"{PREFIX}:")]


async def _running(client: Any) -> list[Any]:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    running = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
    )
    runs: list[Any] = []
    while True:
        page = await client.read_flow_runs(flow_run_filter=running, limit=PAGE, offset=len(runs))
        runs += page
        if len(page) < PAGE:
            return runs


async def reclaim_forever(every: float = RECLAIM_SECONDS) -> None:
    """Reclaim now and every `every` seconds; a failed pass is logged and tried again."""
    import anyio

    while True:
        try:
            await reclaim_partition_locks()
        except Exception:  # the server may be restarting: the next pass tries again
            logger.exception("reclaiming partition locks failed")
        await anyio.sleep(every)
