"""Work that only one process may do at a time, with the others standing by to take over.

Two `runbook serve` (or `serve` beside `runbook door`) must not both run the event door: both
would create a run for one opening event and page twice for one burst. Each process tries the
role's lock (`governance.ledger.role_lock`); the one that holds it does the work, the others
say once that they stand by and try again every `STANDBY_SECONDS`. The holder checks its hold
as often: if it loses it (the ledger's database went away), it stops the work and stands by
too, so at no moment do two processes do it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

from governance.ledger.role_lock import RoleLock

logger = logging.getLogger("runbook.standby")
STANDBY_SECONDS = 5


async def hold_then_run(
    lock: RoleLock,
    role: str,
    work: Callable[[], Coroutine[Any, Any, None]],
    every: float = STANDBY_SECONDS,
) -> None:
    """Run `work` whenever this process holds `lock`, until cancelled."""
    standing_by = False
    while True:
        if not await _try(lock.acquire):
            if not standing_by:
                logger.warning(
                    "another process runs the %s on this ledger; standing by (trying every %g s)",
                    role,
                    every,
                )
                standing_by = True
            await anyio.sleep(every)
            continue
        logger.warning("this process runs the %s", role)
        standing_by = False
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(work)
                while await _try(lock.held):
                    await anyio.sleep(every)
                logger.error("the %s lost its lock (the ledger went away); standing by", role)
                tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lock.release)


async def _try(check: Callable[[], bool]) -> bool:
    """The lock's answer; False while the ledger's database cannot be reached."""
    try:
        return await anyio.to_thread.run_sync(check)
    except Exception:
        logger.exception("the role lock could not be checked")
        return False
