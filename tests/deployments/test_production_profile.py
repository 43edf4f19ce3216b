"""The production profile of the README, as a team would run it.

A Prefect server on PostgreSQL with basic auth (`PREFECT_SERVER_API_AUTH_STRING`); clients
carry `PREFECT_API_AUTH_STRING` and are refused without it; the recoveries run from a process
work pool: `prefect work-pool create`, `prefect deploy --all` of the generated prefect.yaml and
`prefect worker start`, with `runbook door` beside them, instead of `runbook serve`. A failure
event reported by `runbook emit` reaches the runbook through the event door, which creates the
run on its deployment, and the worker runs it to the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from deployments.local_serve import flow_runs
from deployments.local_server import LocalServer, local_prefect_server, reset_postgres_database
from deployments.prefect_yaml import WORK_POOL
from flows.run_services import open_command_services
from tests.events.conftest import RUNBOOK
from tests.prefect_servers import ADMIN_URL

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "runbooks:a-long-secret"
NAME = "unit-profit-experiments"


@dataclass(frozen=True)
class Team:
    """The locked server and the environment every client of the team sets."""

    server: LocalServer
    env: dict[str, str]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    from prefect.settings import PREFECT_API_AUTH_STRING, temporary_settings

    root = tmp_path_factory.mktemp("profile")
    runbooks = root / "runbooks"
    runbooks.mkdir()
    (runbooks / f"{NAME}.yaml").write_text(
        RUNBOOK.format(name=NAME, log=root / "ran.log", seconds=0)
    )
    database = reset_postgres_database(ADMIN_URL, "runbook_profile_prefect")
    psycopg = "postgresql+psycopg"
    audit = reset_postgres_database(ADMIN_URL, "runbook_profile_audit")
    warehouse = reset_postgres_database(ADMIN_URL, "runbook_profile_warehouse")
    locked = {"PREFECT_SERVER_API_AUTH_STRING": LOGIN}
    with local_prefect_server(database, extra_env=locked) as server:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env = {
            **clean,
            "PREFECT_API_URL": server.api_url,
            "PREFECT_API_AUTH_STRING": LOGIN,
            "PREFECT_HOME": str(root / "prefect-home"),
            "RUNBOOK_RUNBOOKS_DIR": str(runbooks),
            "RUNBOOK_STEP_MODULES": '["tests.step_types"]',
            "RUNBOOK_DATA_DIR": str(root / "data"),
            "RUNBOOK_AUDIT_URL": audit.replace("postgresql+asyncpg", psycopg),
            "RUNBOOK_WAREHOUSE_URL": warehouse.replace("postgresql+asyncpg", psycopg),
            "RUNBOOK_PROJECT_DIR": str(ROOT),
            "PYTHONPATH": str(ROOT),
        }
        with temporary_settings({PREFECT_API_AUTH_STRING: LOGIN}):
            team = Team(server, env)
            # the profile's set-up step, before anything runs; every test here relies on it
            migrated = runbook(team, "data", "migrate")
            assert migrated.returncode == 0, migrated.stdout + migrated.stderr
            yield team


def test_migrating_again_on_postgresql_succeeds(team: Team) -> None:
    again = runbook(team, "data", "migrate")
    assert again.returncode == 0, again.stdout + again.stderr


def cli(team: Team, *args: str, login: bool = True) -> subprocess.CompletedProcess[str]:
    """A command in a process of its own, as a member of the team runs it (with the login)."""
    env = dict(team.env)
    if not login:
        env.pop("PREFECT_API_AUTH_STRING")
    return subprocess.run(
        list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def runbook(team: Team, *args: str, login: bool = True) -> subprocess.CompletedProcess[str]:
    return cli(team, sys.executable, "-m", "runbook_cli", *args, login=login)


def test_the_api_answers_only_with_the_login(team: Team) -> None:
    api = team.server.api_url
    assert httpx.get(f"{api}/health").status_code == 200  # the health check stays open
    assert httpx.post(f"{api}/flows/filter", json={}).status_code == 401
    user, password = LOGIN.split(":")
    allowed = httpx.post(f"{api}/flows/filter", json={}, auth=(user, password))
    assert allowed.status_code == 200


def test_a_client_without_the_login_is_refused_in_one_line(team: Team) -> None:
    emitted = runbook(
        team, "emit", "unit_profit_experiments", "--kind", "etl_job_failure",
        "--partition", "2026-10-14", login=False,
    )  # fmt: skip
    assert emitted.returncode == 1
    assert emitted.stderr.splitlines() == [
        f"error: event not delivered: 401 Unauthorized from {team.server.api_url}: the Prefect "
        "server requires a login: set PREFECT_API_AUTH_STRING=user:password (the server's "
        "PREFECT_SERVER_API_AUTH_STRING)"
    ]


@pytest.fixture
def worker(team: Team, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """The runbooks deployed to a process work pool, a worker of that pool and the event door
    (which starts the runs of `pipeline.failed` events) running."""
    prefect = [sys.executable, "-m", "prefect", "--no-prompt"]
    made = cli(team, *prefect, "work-pool", "create", WORK_POOL, "--type", "process")
    assert made.returncode == 0, made.stdout + made.stderr
    rendered = runbook(team, "deployments")
    assert rendered.returncode == 0, rendered.stderr
    prefect_yaml = tmp_path / "prefect.yaml"
    prefect_yaml.write_text(rendered.stdout)
    deployed = cli(team, *prefect, "deploy", "--all", "--prefect-file", str(prefect_yaml))
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*prefect, "worker", "start", "--pool", WORK_POOL],
            cwd=ROOT,
            env={**team.env, "PREFECT_WORKER_QUERY_SECONDS": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with (tmp_path / "door.log").open("wb") as out:
        door = subprocess.Popen(
            [sys.executable, "-m", "runbook_cli", "door"],
            cwd=ROOT,
            env=team.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        for started in (door, process):
            _stop(started)


def _stop(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        os.killpg(process.pid, sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            continue


def test_a_failure_event_is_recovered_by_a_worker_of_the_process_pool(
    team: Team, worker: subprocess.Popen
) -> None:
    # The door starts a moment after the worker: report a failure of another partition until
    # one starts a run (the door's catch-up would decide the first ones too, on its start).
    day, started = 0, None
    deadline = time.monotonic() + 180
    while started is None:
        assert time.monotonic() < deadline, "no event started the runbook"
        day += 1
        emitted = runbook(
            team, "emit", "unit_profit_experiments", "--kind", "etl_job_failure",
            "--partition", f"2026-10-{day:02d}",
        )  # fmt: skip
        assert emitted.returncode == 0, emitted.stderr
        started = _first_run(time.monotonic() + 20)
    deadline = time.monotonic() + 180
    while not (state := _state(started)).is_final():
        assert worker.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, f"the run did not end: {state}"
        time.sleep(1)
    assert state.is_completed(), state
    assert started.work_pool_name == WORK_POOL
    with open_command_services(audit_url=team.env["RUNBOOK_AUDIT_URL"]) as services:
        incident = services.ledger.incident_of_run(str(started.id))
        assert incident is not None and incident.pipeline == "unit_profit_experiments"
        assert services.ledger.current_state(incident.id) == "resolved"
    assert (Path(team.env["RUNBOOK_DATA_DIR"]).parent / "ran.log").read_text().split()[:1] == [
        "recovered"
    ]


def _first_run(until: float):  # type: ignore[no-untyped-def]
    """The first run of the runbook, once one exists (None if none by `until`)."""
    while time.monotonic() < until:
        runs = asyncio.run(flow_runs(NAME))
        if runs:
            return runs[0]
        time.sleep(0.5)
    return None


def _state(flow_run):  # type: ignore[no-untyped-def]
    from prefect.client.orchestration import get_client

    async def read():  # type: ignore[no-untyped-def]
        async with get_client() as client:
            return (await client.read_flow_run(flow_run.id)).state

    return asyncio.run(read())
