"""`runbook serve` in a subprocess against a local Prefect server: start, measure, kill.

Used by the served end-to-end tests and `bench/bench_gate_latency.py`. The runbooks it
serves use the step types of `tests.e2e.steps` (publish appends a line per publication), and
the audit ledger is a SQLite file the test reads too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client

from flows.events.contract import PARTITION_LABEL
from testing.prefect_server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
STEP_MODULES = ["tests.step_types", "tests.e2e.steps"]

GATED = """
runbook: {name}
pipeline: aggregate_profit
steps:
  - id: counts
    uses: test.add
    with: {{a: 40, b: 2}}
{extra}  - id: approve
    uses: approval.on_call
    needs: [{gate_needs}]
    timeout: {timeout}
    with: {{approvers: [A, B]}}
  - id: publish
    uses: e2e.publish
    needs: [approve]
    with: {{target: "{target}"}}
"""

SLOW_STEP = """  - id: slow
    uses: e2e.slow
    needs: [counts]
    with: {{seconds: {seconds}, log: "{log}"}}
"""


def gated_runbook(
    name: str, target: Path, *, timeout: str = "30m", slow: float = 0, log: Path | None = None
) -> str:
    """counts → (slow →) approve → publish: a runbook whose every publication is one line."""
    extra = SLOW_STEP.format(seconds=slow, log=log) if slow else ""
    needs = "slow" if slow else "counts"
    return GATED.format(name=name, target=target, timeout=timeout, extra=extra, gate_needs=needs)


@dataclass
class Serving:
    """A running `runbook serve`: its process (leader of its own session) and log."""

    process: subprocess.Popen
    log: Path

    def tree(self) -> list[int]:
        """The serve process and all its descendants."""
        return descendants(self.process.pid)

    def rss_mb(self) -> float:
        """Resident memory of the serve process and every process under it, in MB."""
        return sum(rss_kb(pid) for pid in self.tree()) / 1024

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill_hard(self, *, group: bool) -> None:
        """SIGKILL the serve process (with `group`, every process of its session too)."""
        if group:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM (twice: the first may be swallowed), then SIGKILL, the whole group."""
        for _ in range(2):
            if not self.alive():
                break
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                continue
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with_session_gone(self.process.pid)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def start_serving(
    server: LocalServer,
    runbooks: Path,
    data: Path,
    audit_url: str,
    log_name: str = "serve.log",
    options: tuple[str, ...] = (),
) -> Serving:
    """`runbook serve [options]` for the runbooks in `runbooks`."""
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "RUNBOOK_RUNBOOKS_DIR": str(runbooks),
        "RUNBOOK_STEP_MODULES": json.dumps(STEP_MODULES),
        "RUNBOOK_DATA_DIR": str(data),
        "RUNBOOK_AUDIT_URL": audit_url,
        "PYTHONPATH": str(ROOT),
    }
    log = data / log_name
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "runbook_cli", "serve", *options],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Serving(process, log)


def descendants(root: int) -> list[int]:
    """`root` and every process whose parent chain leads to it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_kb(pid: int) -> int:
    """VmRSS of a process in kB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def with_session_gone(session: int, timeout: float = 20) -> None:
    """Wait until no process of this session remains (SIGKILL stragglers)."""
    deadline = time.monotonic() + timeout
    while (left := session_members(session)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def session_members(session: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str, serving: Serving | None = None
) -> None:
    """Poll `predicate` until true; fail saying `what` (and showing serve's log if it died)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if serving is not None and not serving.alive():
            raise AssertionError(f"runbook serve exited:\n{serving.tail()}")
        if time.monotonic() > deadline:
            tail = f"\nserve log:\n{serving.tail()}" if serving is not None else ""
            raise AssertionError(f"{what} within {timeout:.0f} s{tail}")
        time.sleep(0.5)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def deployment_ready(name: str) -> bool:
    """Whether `<flow>/<deployment>` exists (serve has registered it)."""
    async with get_client() as client:
        try:
            await client.read_deployment_by_name(name)
        except Exception:  # not yet
            return False
    return True


async def start_runs(deployment: str, events: Iterable[dict[str, Any]]) -> list[UUID]:
    """One run of the deployment per event, as the event trigger would create them (on a
    client of our own, closed after)."""
    async with get_client() as client:
        target = await client.read_deployment_by_name(deployment)
        return [
            (
                await client.create_flow_run_from_deployment(target.id, parameters={"event": event})
            ).id
            for event in events
        ]


async def states(flow_run_ids: Iterable[UUID]) -> dict[UUID, Any]:
    """The current state of each run."""
    ids = list(flow_run_ids)
    async with get_client() as client:
        found = {r.id: r.state for r in await _read(client, ids)}
    return found


async def _read(client: Any, ids: list[UUID]) -> list[Any]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    out: list[Any] = []
    for start in range(0, len(ids), 200):
        batch = ids[start : start + 200]
        out += await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=batch)), limit=len(batch)
        )
    return out


def suspended(state: Any) -> bool:
    return state is not None and state.is_paused() and state.name == "Suspended"


def failure_event(n: int, partition: str | None = None) -> dict[str, Any]:
    """A `pipeline.failed` event as the deployment trigger passes it to a run.

    Each `n` has a fiscal month of its own (from 2001-01): the ledger keeps one open incident
    per pipeline and partition, so events of one month would attach to the first run's.
    """
    key = partition or f"{2001 + n // 12}-{n % 12 + 1:02d}"
    return {
        "id": str(uuid.uuid4()),
        "event": "pipeline.failed",
        "occurred": "2026-11-02T09:00:00+00:00",
        "resource": {"prefect.resource.id": "pipeline.aggregate_profit", PARTITION_LABEL: key},
        "payload": {"kind": "data_quality", "partition": key},
    }


def publications(target: Path) -> dict[str, int]:
    """How often each flow run published (one line per publication)."""
    counts: dict[str, int] = {}
    if target.exists():
        for line in target.read_text().splitlines():
            run_id = line.split()[0]
            counts[run_id] = counts.get(run_id, 0) + 1
    return counts
