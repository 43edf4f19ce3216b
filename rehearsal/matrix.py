"""Many cells at once: worker processes, one template, results against the expectations.

Settings are per process (a cell points every store at its scratch copies), so cells run in
parallel only in separate processes: `jobs` spawned workers, each playing its cells one by
one against the same Prefect API. Most of a cell is waiting (budgets, the gate's poll), so a
few workers shorten the matrix well beyond the machine's core count. `jobs=1` plays every
cell in this process.

This module imports nothing heavy at the top: a spawned worker imports it first, and Prefect
must see the API URL in the environment before it is imported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rehearsal.cells import Cell
    from rehearsal.play import CellResult, Options
    from rehearsal.workspace import Template

Say = Callable[[str], None]


def run_cells(
    cells: list[Cell],
    template: Template,
    options: Options,
    *,
    jobs: int = 1,
    api_url: str | None = None,
    say: Say | None = None,
) -> Iterator[CellResult]:
    """Play every cell; yield each result as it is known (in completion order)."""
    from rehearsal.play import rehearse

    if jobs <= 1 or len(cells) <= 1:
        for cell in cells:
            yield rehearse(cell, template, options, say or _silent)
        return
    context = get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(cells)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(api_url,),
    ) as pool:
        futures = [pool.submit(_play_in_worker, cell, template, options) for cell in cells]
        for future in as_completed(futures):
            yield future.result()


def _start_worker(api_url: str | None) -> None:
    """Point the worker at the parent's Prefect API and install the fault layer."""
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"  # logs still reach the API
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    import prefect  # noqa: F401  (configures its logging, which the next line quiets)

    import faults

    faults.install()
    quiet_console()


def _play_in_worker(cell: Cell, template: Template, options: Options) -> CellResult:
    from rehearsal.play import rehearse

    return rehearse(cell, template, options, _silent)


def _silent(_message: str) -> None:
    """Workers do not print: the parent prints each result."""


def quiet_console() -> None:
    """Keep Prefect's run logs off the terminal (they still reach its API)."""
    for logger in (logging.getLogger("prefect"), logging.getLogger()):
        for handler in logger.handlers:
            if type(handler).__name__ != "APILogHandler" and isinstance(
                handler, logging.StreamHandler
            ):
                handler.setLevel(logging.CRITICAL)
