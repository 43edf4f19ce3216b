"""Exactly one process runs the event door: the other stands by and takes over when it stops;
a holder that loses its lock stops working."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from flows.operations.standby import hold_then_run
from foundation.engines import engine_for
from governance.ledger.role_lock import AdvisoryLock, FileLock
from tests.governance.conftest import POSTGRES_URL

EVERY = 0.05


def recording(log: list[str], name: str) -> Callable[[], Awaitable[None]]:
    """Work that notes when it starts and stops."""

    async def work() -> None:
        log.append(f"{name} started")
        try:
            await anyio.sleep_forever()
        finally:
            log.append(f"{name} stopped")

    return work


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(10):
        while not condition():
            await anyio.sleep(EVERY)


def test_the_second_stands_by_and_takes_over_when_the_first_stops(tmp_path: Path) -> None:
    path = tmp_path / "audit.db.event-door.lock"
    log: list[str] = []

    async def scenario() -> None:
        async with anyio.create_task_group() as tasks:
            first, second = anyio.CancelScope(), anyio.CancelScope()

            async def run(scope: anyio.CancelScope, name: str) -> None:
                with scope:
                    await hold_then_run(FileLock(path), "door", recording(log, name), EVERY)

            tasks.start_soon(run, first, "first")
            await until(lambda: log == ["first started"])
            tasks.start_soon(run, second, "second")
            await anyio.sleep(20 * EVERY)
            assert log == ["first started"]  # the second stands by
            first.cancel()
            await until(lambda: log[-1] == "second started")
            second.cancel()

    anyio.run(scenario)
    assert log == ["first started", "first stopped", "second started", "second stopped"]


@pytest.mark.postgres
def test_a_holder_whose_connection_dies_stops_then_holds_again() -> None:
    role = f"door-{time.monotonic_ns()}"
    engine = engine_for(POSTGRES_URL)
    log: list[str] = []
    holder = sa.text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objid::bigint = (hashtext(:key)::bigint & 4294967295)"
    )

    def kill_holders_connection() -> None:
        with engine.connect() as conn:
            pids = conn.execute(holder, {"key": f"runbook-role:{role}"}).scalars().all()
            assert len(pids) == 1
            conn.execute(sa.select(sa.func.pg_terminate_backend(pids[0])))

    async def scenario() -> None:
        async with anyio.create_task_group() as tasks:
            lock = AdvisoryLock(engine, role)
            tasks.start_soon(hold_then_run, lock, "door", recording(log, "door"), EVERY)
            await until(lambda: log == ["door started"])
            await anyio.to_thread.run_sync(kill_holders_connection)
            await until(lambda: log[-2:] == ["door stopped", "door started"])
            tasks.cancel_scope.cancel()

    try:
        anyio.run(scenario)
    finally:
        engine.dispose()
    assert log == ["door started", "door stopped", "door started", "door stopped"]
