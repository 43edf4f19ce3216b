"""The Prefect API a rehearsal talks to: a scratch server unless one is named.

A rehearsal's pipelines emit real `pipeline.failed` events; on a server where the runbooks'
deployments listen, those events would start real recoveries against the configured
warehouse. So by default a rehearsal starts a server of its own (`deployments.local_server`)
and stops it afterwards; tests name the session's server instead.

The URL is made current for the whole process for the block, threads included (Prefect's
log shipper and the threads runbooks run in read settings from the environment when they
have no settings context), and handed to worker processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def prefect_api(url: str | None = None) -> Iterator[str]:
    """Yield the API URL in use: `url`, or a scratch server's started for the block."""
    if url is None:
        from deployments.local_server import local_prefect_server

        with local_prefect_server() as server, _process_wide(server.api_url):
            try:
                yield server.api_url
            finally:
                _drain()  # send what is queued while the server still listens
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url}), _process_wide(url):
        yield url


@contextmanager
def _process_wide(url: str) -> Iterator[None]:
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


def _drain() -> None:
    """Flush Prefect's log and event senders of this process (bounded wait)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=10)
