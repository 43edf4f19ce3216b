"""What every client command does with the Prefect API: check it first, fail in one line.

A command that needs the server (`serve`, `emit`, `approve`, `reject`) calls `require_api()`
before doing anything and runs inside `api_errors()`: no API configured, a server that cannot
be reached and a 401 (no `PREFECT_API_AUTH_STRING`) each end the command with exit status 1
and one line saying what to do, never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from flows.events.api_errors import api_problem, api_url, explain


def require_api() -> None:
    """Exit 1 with one line unless PREFECT_API_URL is set and accepts this client."""
    problem = asyncio.run(api_problem())
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn a Prefect API failure inside the block into one line and exit status 1."""
    try:
        yield
    except Exception as exc:
        line = explain(exc, api_url())
        if line is None:
            raise
        typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1) from None
