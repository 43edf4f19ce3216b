"""A Prefect client context for code that runs async flows itself (the demo, commands, tests).

Prefect 3.9's async flow engine reads the server's default result storage through a sync client
it opens and never closes (`prefect.results._read_server_default_result_storage_block_id`): one
socket left to the garbage collector per flow run. When a sync client context is open, Prefect
borrows that client instead, and the context closes it. Open it around `asyncio.run(flow(...))`
(contexts are per thread: a thread that runs flows opens its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.client.orchestration import get_client
from prefect.context import SyncClientContext


@contextmanager
def prefect_client_context() -> Iterator[None]:
    """Share one Prefect sync client with the flow runs started inside; close it at the end."""
    with SyncClientContext.get_or_create():
        yield


def reach_prefect_api() -> Exception | None:
    """Reach the Prefect API once; the error, if it cannot be reached.

    Without PREFECT_API_URL this starts Prefect's local server (seconds): a command that will run
    flows can call it in a worker thread while it does other work first.
    """
    with get_client(sync_client=True) as client:
        return client.api_healthcheck()
