"""A served run stops when the runner that started it dies: no unsupervised orphans.

`runbook serve` stops the flow-run processes it started when it exits normally; when it is
killed outright (SIGKILL, an OOM kill) it cannot, and its children would run on with nobody
to enforce limits, cancel them or restart them. Each such child watches its parent: once the
parent is gone it reports its run Crashed and ends at once (hard: Prefect's engine, asked to
stop by a signal, waits for the runner that is gone); the incident sync then retries the run
(it restores the steps already finished) when a runner serves the deployment again. Should
the report fail, the process still ends, and the crash watch notices the silence.

The runner is the process's parent, unless the runner names itself in `RUNBOOK_RUNNER_PID`:
`runbook serve` forks its runs from a warm forkserver (`deployments/forked_runs.py`), which
is then their parent and outlives the runner while they run.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections.abc import Callable
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

CHECK_SECONDS = 1.0
RUNNER_PID = "RUNBOOK_RUNNER_PID"
STILL_HERE = {StateType.RUNNING, StateType.PENDING}
"""States in which this process is the run: a run that already left it (suspended at a gate,
ended) is not crashed by the process finishing its exit when its runner dies."""
_started = False
_lock = threading.Lock()


def _watch(runner_alive: Callable[[], bool], flow_run_id: UUID) -> None:
    while runner_alive():
        pass
    with contextlib.suppress(Exception):
        report_orphaned(flow_run_id)
    os._exit(70)  # EX_SOFTWARE: nothing of this process may run on unsupervised


def report_orphaned(flow_run_id: UUID) -> bool:
    """Mark the run Crashed if this process still is the run; say whether it did."""
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
        if state is None or state.type not in STILL_HERE:
            return False
        client.set_flow_run_state(
            flow_run_id,
            Crashed(message="the runner that started this run is gone; the process stopped"),
            force=True,
        )
        return True  # EX_SOFTWARE: nothing of this process may run on unsupervised


def runner_watch(environ: dict[str, str] | None = None) -> Callable[[], bool] | None:
    """A check that waits up to CHECK_SECONDS and says whether the runner still lives (at
    once False for a named runner already gone); None when this process has already been
    re-parented and has no runner left to watch."""
    named = (environ if environ is not None else os.environ).get(RUNNER_PID, "")
    if not named.isdigit():
        parent = os.getppid()
        if parent <= 1:
            return None

        def parent_alive() -> bool:
            time.sleep(CHECK_SECONDS)
            return os.getppid() == parent

        return parent_alive
    try:
        handle = os.pidfd_open(int(named))  # readable once that process has ended
    except ProcessLookupError:
        return lambda: False

    def runner_alive() -> bool:
        ended, _, _ = select.select([handle], [], [], CHECK_SECONDS)
        return not ended

    return runner_alive


def stop_when_orphaned(flow_run_id: str) -> None:
    """Watch this process's runner from a daemon thread (once per process)."""
    global _started
    with _lock:
        if _started:
            return
        _started = True
    watch = runner_watch()
    if watch is None:
        return  # already re-parented: nothing to watch
    thread = threading.Thread(
        target=_watch, args=(watch, UUID(flow_run_id)), name="orphan-guard", daemon=True
    )
    thread.start()
