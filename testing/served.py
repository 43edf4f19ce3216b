"""`runbook serve` in a subprocess against a local Prefect server, for tests and benchmarks.

Starting is not enough: the server loads a new deployment's trigger into its trigger service
a moment after the deployment appears, and an event that arrives before that starts nothing.
`wait_armed` sends a probe event of a partition of its own and waits for the run it starts.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from testing.prefect_server import LocalServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    """A running `runbook serve`: its process and log."""

    process: subprocess.Popen
    log: Path

    def children(self) -> list[int]:
        """Pids of the flow-run processes the runner started (its direct children)."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(pid) for pid in out.split()]


@contextmanager
def serving(
    server: LocalServer,
    runbooks: Path,
    data: Path,
    *,
    poll: float = 1.0,
    limit: int = 5,
    extra_env: dict[str, str] | None = None,
    spawn: bool = False,
) -> Iterator[Served]:
    """`runbook serve --poll POLL --limit LIMIT [--spawn]` for the runbooks in `runbooks`, for
    the block."""
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "RUNBOOK_RUNBOOKS_DIR": str(runbooks),
        "RUNBOOK_DATA_DIR": str(data),
        "PYTHONPATH": str(PROJECT_ROOT),
        **(extra_env or {}),
    }
    log = data / "serve.log"
    command = [sys.executable, "-m", "runbook_cli", "serve", "--poll", str(poll)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--limit", str(limit), *(["--spawn"] if spawn else [])],
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Served(process, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> int:
    """SIGTERM the serve process (a second time if the first is swallowed), then SIGKILL."""
    for _ in range(2):
        if process.poll() is not None:
            return process.returncode
        os.killpg(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            continue
    os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def post_events(api_url: str, events: Sequence[dict], batch: int = 100) -> None:
    """POST raw events (JSON dicts) to the server in batches; raise unless each answer is 2xx."""
    with httpx.Client(base_url=api_url, timeout=60) as client:
        for start in range(0, len(events), batch):
            client.post("/events", json=list(events[start : start + batch])).raise_for_status()


async def flow_runs(flow_name: str) -> list:
    """Every run of the flow called `flow_name`, oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        return await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )


def wait_for(predicate, timeout: float, what: str, served: Served | None = None) -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate` until true; fail saying `what` (and that serve died, if it did)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if served is not None and served.process.poll() is not None:
            raise AssertionError(f"runbook serve exited:\n{served.log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s")
        time.sleep(0.25)


def wait_armed(
    served: Served, api_url: str, flow_name: str, probe: dict, timeout: float = 120
) -> None:
    """Send `probe` (a raw event) until it starts a new run of `flow_name`: the trigger is live."""
    before = len(asyncio.run(flow_runs(flow_name)))
    deadline = time.monotonic() + timeout
    while True:
        post_events(api_url, [probe])
        try:
            wait_for(lambda: len(asyncio.run(flow_runs(flow_name))) > before, 15, "no run", served)
            return
        except AssertionError:
            if time.monotonic() > deadline or served.process.poll() is not None:
                raise
        probe = {**probe, "id": str(uuid.uuid4())}
