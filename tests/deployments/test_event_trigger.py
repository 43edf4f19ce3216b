"""A failure event starts the matching runbook: the event door of `runbook serve` decides it
and creates one run on the runbook's served deployment."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName

from testing.prefect_server import LocalServer
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]
ROOT = Path(__file__).resolve().parents[2]

RUNBOOK = """
runbook: unit-profit-experiments
pipeline: unit_profit_experiments
on:
  - event: pipeline.failed
    match: {{prefect.resource.id: pipeline.unit_profit_experiments}}
params:
  partition: {{type: string, from: "{{{{ event.payload.partition }}}}"}}
  kind: {{type: string, from: "{{{{ event.payload.kind }}}}"}}
steps:
  - id: recovered
    uses: test.echo
    with: {{value: "{{{{ params.kind }}}}:{{{{ params.partition }}}}", log: "{log}"}}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with postgres_prefect_server("runbook_trigger_prefect") as s:
        yield s


def serve(server: LocalServer, runbooks: Path, data: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "RUNBOOK_RUNBOOKS_DIR": str(runbooks),
        "RUNBOOK_STEP_MODULES": json.dumps(["tests.step_types"]),
        "RUNBOOK_DATA_DIR": str(data),
        "PYTHONPATH": str(ROOT),
    }
    with (data.parent / "serve.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "runbook_cli", "serve", "--poll", "1"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def emit(server: LocalServer, pipeline: str, partition: str) -> None:
    """`runbook emit` in its own process, as an external job would report a failure.

    (In this process Prefect's events worker may still be bound to another test's server.)
    """
    env = {**os.environ, "PREFECT_API_URL": server.api_url}
    command = [
        sys.executable,
        "-m",
        "runbook_cli",
        "emit",
        pipeline,
        "--kind",
        "data_quality",
        "--partition",
        partition,
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)


async def deployment_exists(name: str) -> bool:
    async with get_client() as client:
        deployments = await client.read_deployments()
    return any(d.name == name for d in deployments)


def test_pipeline_failed_event_runs_the_runbook_with_the_events_partition(
    server: LocalServer, tmp_path: Path
) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    log = tmp_path / "ran.log"
    (runbooks / "unit-profit-experiments.yaml").write_text(RUNBOOK.format(log=log))
    process = serve(server, runbooks, tmp_path / "data")
    try:
        deadline = time.monotonic() + 90
        while not asyncio.run(deployment_exists("unit-profit-experiments")):
            assert time.monotonic() < deadline, "the runbook's deployment never appeared"
            assert process.poll() is None, "runbook serve exited"
            time.sleep(1)
        arm(server, process)
        log.unlink(missing_ok=True)  # the probe's recovery wrote it
        before = {r.id for r in asyncio.run(_runs())}
        emit(server, "aggregate_growth", "2026-W43")  # another pipeline: must not start it
        emit(server, "unit_profit_experiments", "2026-10-14")  # once: the door is live
        deadline = time.monotonic() + 90
        while not log.exists():
            assert time.monotonic() < deadline, "the door did not start the runbook"
            time.sleep(0.5)
        assert log.read_text().split() == ["recovered"]
        time.sleep(3)  # a second run, if the door made one, would be created by now
        runs = [r for r in asyncio.run(_runs()) if r.id not in before]
        assert len(runs) == 1, [r.parameters["event"]["resource"] for r in runs]
        event = runs[0].parameters["event"]
        assert event["payload"]["partition"] == "2026-10-14"
        assert event["resource"]["pipeline.partition"] == "2026-10-14"
    finally:
        for _ in range(2):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    continue
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def arm(server: LocalServer, process: subprocess.Popen) -> None:
    """Return once the event door starts runs: report failures of probe partitions (one a
    try, each its own incident) until one starts a run, and that run has ended."""
    deadline = time.monotonic() + 120
    for day in range(1, 100):
        assert time.monotonic() < deadline, "the event door never started a run"
        emit(server, "unit_profit_experiments", f"2026-09-{day:02d}")
        created = time.monotonic() + 20
        while not (runs := asyncio.run(_runs())) and time.monotonic() < created:
            assert process.poll() is None, "runbook serve exited"
            time.sleep(0.5)
        if runs:
            break
    ended = time.monotonic() + 90
    while not all(r.state and r.state.is_final() for r in asyncio.run(_runs())):
        assert time.monotonic() < ended, "the probe's run did not end"
        time.sleep(0.5)


async def _runs() -> list:
    """Runs of the runbook's flow (the SLA watch's scheduled runs are not counted)."""
    async with get_client() as client:
        return await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["unit-profit-experiments"]))
        )
