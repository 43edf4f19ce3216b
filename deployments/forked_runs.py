"""Flow-run processes forked from a warm parent, so a served run starts in a fraction of a second.

A run that `runbook serve` starts is, in Prefect, a new `python -m prefect.engine` process: the
interpreter starts and imports Prefect's engine and the project before the flow runs. On this
machine that is about 1.7 s of CPU per run (`bench/bench_run_start.py`), most of an event's
wait and most of the wait between an approval and a suspended gate's run resuming.

Here the runner starts that same command differently: a forkserver (Python's
`multiprocessing`) imports the engine and the runbooks' entrypoint module once, when serve
starts, and each run is a fork of it. The child takes the environment Prefect's runner built
for the run, reads Prefect's and the project's settings again from it, and runs
`prefect.engine` as its main module, as the command would. The runner tracks, cancels and
reaps the child like any process it started (its handle accepts a `multiprocessing` process,
as Prefect's own in-process starter hands it one). Any other command, or a start with options
this does not carry, goes to Prefect's `run_process` unchanged. The child's parent is the
forkserver, not the runner, so it is told the runner's pid (`RUNBOOK_RUNNER_PID`): its orphan
guard stops it when the runner dies, as it would a spawned run whose parent died.

The seam is `prefect.runner._starter_engine.run_process`, which Prefect names as the one to
replace; `tests/deployments/test_forked_runs.py` fails if it moves.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import runpy
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flows.runtime.orphan_guard import RUNNER_PID

ENGINE_MODULE = "prefect.engine"
PRELOAD = (
    "prefect.engine",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.runner.storage",
    "deployments.entrypoints",
)


def warm_context() -> multiprocessing.context.ForkServerContext:
    """The forkserver context, with its server started and the modules a run needs imported."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return context


def run_engine(env: Mapping[str, str], cwd: str | None) -> None:
    """In the forked child: become `python -m prefect.engine` for the run `env` names."""
    os.environ.clear()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    from prefect.context import refresh_global_settings_context

    from foundation.settings import reload_settings

    refresh_global_settings_context()
    reload_settings()
    sys.argv = [ENGINE_MODULE]
    # The module was imported ahead on purpose (that is the warm start); runpy says so.
    warnings.filterwarnings("ignore", f"'{ENGINE_MODULE}' found in sys.modules", RuntimeWarning)
    runpy.run_module(ENGINE_MODULE, run_name="__main__", alter_sys=True)


def is_engine_command(command: list[str]) -> bool:
    """Whether `command` is the runner's `python -m prefect.engine` (what a fork replaces)."""
    return list(command[1:]) == ["-m", ENGINE_MODULE]


def forking_run_process(
    context: multiprocessing.context.ForkServerContext, fallback: Callable[..., Any]
) -> Callable[..., Any]:
    """A `run_process` that forks engine commands from `context` and passes the rest on."""
    import anyio.to_thread

    async def run_process(
        command: list[str],
        *,
        stream_output: Any = False,
        task_status: Any = None,
        task_status_handler: Callable[[Any], Any] | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Any = None,
        **options: Any,
    ) -> Any:
        if options or env is None or not is_engine_command(command):
            return await fallback(
                command,
                stream_output=stream_output,
                task_status=task_status,
                task_status_handler=task_status_handler,
                env=env,
                cwd=cwd,
                **options,
            )
        # the child's parent is the forkserver: its orphan guard watches this process instead
        child_env = {**env, RUNNER_PID: str(os.getpid())}
        process = context.Process(
            target=run_engine,
            args=(child_env, None if cwd is None else str(cwd)),
            name=f"flow run {env.get('PREFECT__FLOW_RUN_ID', '')}",
        )
        process.start()
        if task_status is not None:
            task_status.started(
                task_status_handler(process) if task_status_handler else process.pid
            )
        await anyio.to_thread.run_sync(process.join)
        return process

    return run_process


@contextmanager
def forked_runs() -> Iterator[None]:
    """While open, the runner in this process starts engine commands as warm forks."""
    from prefect.runner import _starter_engine

    original = _starter_engine.run_process
    _starter_engine.run_process = forking_run_process(warm_context(), original)  # type: ignore[assignment]
    try:
        yield
    finally:
        _starter_engine.run_process = original  # type: ignore[assignment]
