"""A run started from the terminal ends its process when it is stopped, not minutes later.

Prefect answers SIGTERM (and Ctrl-C) by marking the run Crashed and raising in the main
thread; a step still waiting in a worker thread (a backoff within its SLA budget) would then
keep the interpreter from exiting until its wait ended.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer


@contextmanager
def exit_at_once_when_stopped(name: str) -> Iterator[None]:
    """End the process at once when SIGTERM or Ctrl-C stopped the run.

    Prefect marks the run Crashed and raises in the main thread, but a step waiting in a
    worker thread (a backoff of minutes) would keep the interpreter from exiting: the
    process would linger with nothing left to do. So say so in one line and leave now.
    """
    from prefect.exceptions import TerminationSignal  # deferred: start-up time

    try:
        yield
    except (TerminationSignal, KeyboardInterrupt) as stopped:
        number = getattr(stopped, "signal", signal.SIGINT)
        typer.echo(
            f"{name}: stopped by {signal.Signals(number).name}; Prefect marked the run Crashed",
            err=True,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + number)
