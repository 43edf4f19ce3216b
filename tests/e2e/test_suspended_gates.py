"""Gates waiting under `runbook serve` hold no process; each approval publishes once.

A real Prefect server (PostgreSQL) and `runbook serve` in a subprocess. Runs of a gated
runbook's deployment start, run their first step and suspend at the gate: their processes
exit, so the serving side (serve and everything under it) stays small however many wait.
Each approval reschedules its run, the runner starts it again, the first step is restored
from the ledger, the gate replays and the report is published exactly once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from flows.approval.answering import answer_gate
from flows.runtime.run_services import open_command_services
from testing.prefect_server import LocalServer
from tests.e2e.serving import (
    ROOT,
    Serving,
    deployment_ready,
    failure_event,
    gated_runbook,
    publications,
    run,
    start_runs,
    start_serving,
    states,
    suspended,
    wait_for,
)
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # serve processes, SIGKILL: make test-full

MEMORY_LIMIT_MB = 500
BATCH = 5  # runs started (or resumed) at once: the machine is shared
NAME = "gated-e2e"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with postgres_prefect_server("runbook_e2e_suspend") as s:
        yield s


@pytest.fixture
def serving(server: LocalServer, tmp_path: Path, audit_url: str) -> Iterator[Serving]:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / f"{NAME}.yaml").write_text(gated_runbook(NAME, tmp_path / "published.txt"))
    served = start_serving(server, runbooks, tmp_path / "data", audit_url)
    try:
        wait_for(lambda: run(deployment_ready(f"{NAME}/{NAME}")), 120, "no deployment", served)
        yield served
    finally:
        served.stop()


def start_and_suspend(serving: Serving, count: int) -> list[UUID]:
    """Start `count` runs, BATCH at a time, each time waiting until the batch is suspended."""
    ids: list[UUID] = []
    for start in range(0, count, BATCH):
        events = [failure_event(n) for n in range(start, min(start + BATCH, count))]
        batch = run(start_runs(f"{NAME}/{NAME}", events))
        wait_for(
            lambda b=batch: all(suspended(s) for s in run(states(b)).values()),
            180,
            f"runs {start}..{start + len(batch)} not suspended at their gate",
            serving,
        )
        ids += batch
    return ids


def approve_all(serving: Serving, ids: list[UUID], audit_url: str) -> list[bool]:
    """Answer each gate as `runbook approve` does, BATCH at a time; the verdicts."""
    verdicts: list[bool] = []
    with open_command_services(audit_url=audit_url) as services:
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]

            async def answer(b: list[UUID] = batch) -> list[bool]:
                answers = [answer_gate(str(i), "A", "approve", "", services.ledger, 120) for i in b]
                return [v is not None and v.accepted for v in await asyncio.gather(*answers)]

            verdicts += run(answer())
            assert serving.alive(), serving.tail()
    return verdicts


def runbook_approve(server: LocalServer, flow_run_id: UUID, audit_url: str) -> str:
    """`runbook approve` in its own process; its output."""
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "RUNBOOK_AUDIT_URL": audit_url}
    done = subprocess.run(
        [sys.executable, "-m", "runbook_cli", "approve", str(flow_run_id), "--as", "B"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "gates",
    [pytest.param(6, id="6-gates"), pytest.param(50, id="50-gates", marks=pytest.mark.slow)],
)
@pytest.mark.timeout(1500)
def test_waiting_gates_hold_no_process_and_each_approval_publishes_once(
    gates: int, server: LocalServer, serving: Serving, tmp_path: Path, audit_url: str
) -> None:
    ids = start_and_suspend(serving, gates)

    samples = []
    for _ in range(5):
        samples.append((serving.rss_mb(), len(serving.tree())))
        time.sleep(1)
    peak, processes = max(samples)
    print(f"\n{gates} gates waiting: serving side {peak:.0f} MB in {processes} process(es)")
    assert peak < MEMORY_LIMIT_MB
    assert not publications(tmp_path / "published.txt")  # nothing before an approval

    first = runbook_approve(server, ids[0], audit_url)
    assert "approve by B recorded" in first
    assert all(approve_all(serving, ids[1:], audit_url))
    wait_for(
        lambda: all(s is not None and s.is_completed() for s in run(states(ids)).values()),
        300,
        "approved runs did not all complete",
        serving,
    )
    assert publications(tmp_path / "published.txt") == {str(i): 1 for i in ids}
    with open_command_services(audit_url=audit_url) as services:
        ledger = services.ledger
        for flow_run_id in ids:
            incident = ledger.incidents.of_run(str(flow_run_id))
            assert incident is not None
            assert ledger.incidents.current_state(incident.id) == "resolved"
            ran = [s.step_id for s in ledger.steps.of_incident(incident.id)]
            assert ran == ["counts", "approve", "publish"]  # `counts` once, restored after
