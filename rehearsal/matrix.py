"""Many cells at once: worker processes, one template, results against the expectations.

Settings are per process (a cell points every store at its scratch copies), so cells run in
parallel only in separate processes: `jobs` worker processes (`rehearsal.worker`), each
playing its cells one by one against the same Prefect API, which reaches them through the
environment they are started with (an explicit env dict: nothing here writes `os.environ`).
Most of a cell is waiting (budgets, the gate's poll), so a few workers shorten the matrix
well beyond the machine's core count. Without an `api_url`, every cell plays in this process
against the Prefect API the caller's settings name.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rehearsal.cells import Cell
    from rehearsal.play import CellResult, Options
    from rehearsal.workspace import Template

Say = Callable[[str], None]

WORKER_SETTINGS: Mapping[str, str] = {
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",  # run logs still reach the API
}
WORKER_DEFAULTS: Mapping[str, str] = {
    "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.3",  # a cell's logs arrive before it ends
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def run_cells(
    cells: list[Cell],
    template: Template,
    options: Options,
    *,
    jobs: int = 1,
    api_url: str | None = None,
    say: Say | None = None,
) -> Iterator[CellResult]:
    """Play every cell; yield each result as it is known (in completion order).

    With `api_url`, `jobs` worker processes play them against that Prefect API (their story
    lines reach `say` here); without, this process plays them one by one.
    """
    say = say or _silent
    if api_url is None:
        from rehearsal.play import rehearse

        for cell in cells:
            yield rehearse(cell, template, options, say)
        return
    yield from _in_workers(cells, template, options, max(1, min(jobs, len(cells))), api_url, say)


def worker_env(api_url: str, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment a worker starts with: `base`, the API URL and quiet console logs."""
    return {**WORKER_DEFAULTS, **base, **WORKER_SETTINGS, "PREFECT_API_URL": api_url}


def _in_workers(
    cells: list[Cell], template: Template, options: Options, jobs: int, api_url: str, say: Say
) -> Iterator[CellResult]:
    todo: queue.Queue[Cell] = queue.Queue()
    for cell in cells:
        todo.put(cell)
    out: queue.Queue[tuple[str, Any]] = queue.Queue()
    workers = [_Worker(worker_env(api_url), todo, out, (template, options)) for _ in range(jobs)]
    finished = False
    try:
        for worker in workers:
            worker.start()
        done = 0
        while done < len(cells):
            kind, value = out.get()
            if kind == "say":
                say(value)
            elif kind == "result":
                done += 1
                yield value
            else:
                raise RuntimeError(f"a rehearsal worker failed:\n{value}")
        finished = True
    finally:
        for worker in workers:
            worker.stop(kill=not finished)


class _Worker(threading.Thread):
    """One worker process and the thread that feeds it cells and relays its answers."""

    def __init__(
        self,
        env: dict[str, str],
        todo: queue.Queue[Cell],
        out: queue.Queue[tuple[str, Any]],
        shared: tuple[Template, Options],
    ) -> None:
        super().__init__(daemon=True, name="rehearsal-worker")
        self.todo, self.out, self.shared = todo, out, shared
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rehearsal.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.stopping = threading.Event()

    def run(self) -> None:
        from rehearsal.worker import receive, send

        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            while not self.stopping.is_set():
                try:
                    cell = self.todo.get_nowait()
                except queue.Empty:
                    return
                send(self.process.stdin, (cell, *self.shared))
                while (message := receive(self.process.stdout))[0] == "say":
                    self.out.put(message)
                self.out.put(message)
        except (EOFError, OSError) as exc:
            if not self.stopping.is_set():
                self.out.put(("error", f"worker {self.process.pid} exited: {exc}"))

    def stop(self, *, kill: bool) -> None:
        """Let the worker finish and drain its senders; `kill` if the matrix was abandoned."""
        self.stopping.set()
        stdin = self.process.stdin
        if kill:
            self.process.kill()
        elif stdin is not None:
            try:
                from rehearsal.worker import send

                send(stdin, None)
                stdin.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.is_alive():
            self.join(10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def _silent(_message: str) -> None:
    """Nobody listens to the cells' story lines."""
