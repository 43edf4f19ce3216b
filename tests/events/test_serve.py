"""`runbook serve` polls as often as `--poll` says and stops its flow-run processes on exit."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.events.emit import failure_event
from testing.prefect_server import LocalServer
from testing.served import flow_runs, serving, stop, wait_armed, wait_for
from tests.events.conftest import RUNBOOK, fresh_day
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]
NAME = "unit-profit-experiments"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with postgres_prefect_server("runbook_serve_prefect") as s:
        yield s


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _status(pid)


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def test_sigterm_stops_serve_and_the_runs_it_started(server: LocalServer, tmp_path: Path) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    text = RUNBOOK.format(name=NAME, log=tmp_path / "ran.log", seconds=120)
    (runbooks / f"{NAME}.yaml").write_text(text)
    steps = {"RUNBOOK_STEP_MODULES": '["tests.step_types"]'}
    with serving(server, runbooks, tmp_path / "data", extra_env=steps) as served:
        probe = failure_event("unit_profit_experiments", "etl_job_failure", fresh_day())
        wait_armed(served, server.api_url, NAME, probe.model_dump(mode="json"))

        def running() -> bool:
            runs = asyncio.run(flow_runs(NAME))
            return any(r.state and r.state.is_running() for r in runs)

        wait_for(running, 60, "no recovery running", served)
        children = served.children()
        assert children, "the runner started no flow-run process"
        assert stop(served.process) is not None
        assert served.process.poll() is not None
        wait_for(lambda: not any(_alive(pid) for pid in children), 30, "flow-run processes left")
        assert f"{NAME}/{NAME}" in served.log.read_text()  # what serve announced it serves
        assert "polling every 1 s" in served.log.read_text()
