"""The Prefect API a rehearsal talks to: a scratch server unless one is named.

A rehearsal's pipelines emit real `pipeline.failed` events; on a server where the runbooks'
deployments listen, those events would start real recoveries against the configured
warehouse. So by default a rehearsal starts a server of its own (`testing.prefect_server`)
and stops it afterwards; tests name the session's server instead.

The URL is current in this process's Prefect settings context for the block, and handed to
the worker processes that play the cells (`rehearsal.matrix`), which start with it in their
environment; nothing here writes `os.environ`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def prefect_api(url: str | None = None) -> Iterator[str]:
    """Yield the API URL in use: `url`, or a scratch server's started for the block."""
    if url is None:
        from testing.prefect_server import local_prefect_server

        with local_prefect_server() as server:  # drains this process's senders at the end
            yield server.api_url
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}):
        yield url
