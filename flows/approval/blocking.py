"""Blocking calls of the gate (ledger writes, webhooks, SMTP) run in a worker thread.

The gate waits on Prefect's event loop; a database or HTTP call made on that loop would stall
every coroutine of the run, so each one goes through `off_loop`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (database, HTTP, SMTP) in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
