"""Two recoveries never write the same partition at once (a Prefect global concurrency limit)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flows.language.catalog import PipelineCatalog
from tests.events.conftest import events_runbook, fresh_day, run

pytestmark = [pytest.mark.prefect]


def _hold_times(
    catalog: PipelineCatalog, tmp_path: Path, partitions: list[str], seconds: float = 1.5
) -> list[tuple]:
    """Run one hand-started recovery per partition at once; each one's (start, end) of `hold`."""
    compiled = events_runbook(catalog, tmp_path / "ran.log", seconds=seconds)
    states: list = []

    def go(partition: str) -> None:
        event = {
            "event": "pipeline.failed",
            "payload": {"kind": "data_quality", "partition": partition},
        }
        states.append(run(compiled, event=event))

    threads = [threading.Thread(target=go, args=(p,)) for p in partitions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(states) == len(partitions) and all(s.is_completed() for s in states)
    holds = [s.result()["steps"]["hold"]["outputs"] for s in states]
    return sorted((h["started"], h["ended"]) for h in holds)


def test_two_recoveries_of_one_partition_take_turns(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    partition = fresh_day()
    (_, first_end), (second_start, _) = _hold_times(catalog, tmp_path, [partition] * 2)
    assert second_start >= first_end - 0.05, "the second recovery wrote while the first did"


def test_recoveries_of_different_partitions_run_side_by_side(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    # (a slot request can meet a busy SQLite test server and retry after ~2 s: hold longer)
    holds = _hold_times(catalog, tmp_path, [fresh_day(), fresh_day()], seconds=5)
    (_, first_end), (second_start, _) = holds
    assert second_start < first_end, "recoveries of different partitions waited for each other"


def test_a_partition_lock_no_running_recovery_holds_is_reclaimed(prefect_server: None) -> None:
    """As after a server restart that forgot the lease: the slot is taken, nobody holds it."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    from flows.events.lock_reclaim import held_by, reclaim_partition_locks
    from flows.events.partition_lock import ensure_limit, limit_name

    name = limit_name("unit_profit_experiments", fresh_day())

    async def leak_then_reclaim() -> tuple[list[str], int]:
        await ensure_limit(name)
        async with get_client() as client:
            await client.update_global_concurrency_limit(
                name, GlobalConcurrencyLimitUpdate(active_slots=1)
            )
            freed = await reclaim_partition_locks()
            return freed, (await client.read_global_concurrency_limit_by_name(name)).active_slots

    freed, slots = asyncio.run(leak_then_reclaim())
    assert name in freed and slots == 0
    event = {"resource": {"prefect.resource.id": "pipeline.p", "pipeline.partition": "2026-01"}}
    assert held_by({"event": event}) == "partition:p:2026-01"
    assert held_by({}) is None
