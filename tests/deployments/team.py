"""A team's production profile for tests: a locked Prefect server on PostgreSQL, the ledger and
warehouse on PostgreSQL, a process work pool with workers, set up with the README's commands."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployments.prefect_yaml import WORK_POOL
from testing.prefect_server import LocalServer, local_prefect_server, reset_postgres_database
from tests.e2e.serving import STEP_MODULES
from tests.prefect_servers import ADMIN_URL, drop_database

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "runbooks:a-long-secret"


@dataclass
class Team:
    """The locked server, the environment every client of the team sets, and the workers."""

    server: LocalServer
    env: dict[str, str]
    root: Path
    workers: list[subprocess.Popen] = field(default_factory=list)
    doors: list[subprocess.Popen] = field(default_factory=list)

    def start_door(self) -> None:
        """`runbook door`: decides the `pipeline.failed` events and starts their runs."""
        with (self.root / "door.log").open("wb") as log:
            self.doors.append(
                subprocess.Popen(
                    [sys.executable, "-m", "runbook_cli", "door"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def start_worker(self) -> subprocess.Popen:
        """`prefect worker start --pool runbooks`, in a session of its own."""
        with (self.root / f"worker-{len(self.workers)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", WORK_POOL],
                cwd=ROOT,
                env={**self.env, "PREFECT_WORKER_QUERY_SECONDS": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(process)
        return process

    def live_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]


@contextmanager
def locked_team(
    root: Path, name: str, extra_env: dict[str, str], workers: int = 2
) -> Iterator[Team]:
    """The profile, set up, with `workers` workers and `runbook door` running, for the block;
    `name` names its databases; `extra_env` is what every member of the team sets besides the
    login."""
    from prefect.settings import PREFECT_API_AUTH_STRING, temporary_settings

    pid = os.getpid()
    names = [f"runbook_{name}_{part}_{pid}" for part in ("prefect", "audit", "warehouse")]
    database = reset_postgres_database(ADMIN_URL, names[0], for_prefect=True)
    audit, warehouse = (reset_postgres_database(ADMIN_URL, n) for n in names[1:])
    psycopg = "postgresql+psycopg"
    locked = {"PREFECT_SERVER_API_AUTH_STRING": LOGIN}
    try:
        with local_prefect_server(database, extra_env=locked) as server:
            clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
            env = {
                **clean,
                "PREFECT_API_URL": server.api_url,
                "PREFECT_API_AUTH_STRING": LOGIN,
                "PREFECT_HOME": str(root / "prefect-home"),
                "RUNBOOK_STEP_MODULES": str(STEP_MODULES).replace("'", '"'),
                "RUNBOOK_DATA_DIR": str(root / "data"),
                "RUNBOOK_AUDIT_URL": audit.replace("postgresql+asyncpg", psycopg),
                "RUNBOOK_WAREHOUSE_URL": warehouse.replace("postgresql+asyncpg", psycopg),
                "RUNBOOK_PROJECT_DIR": str(ROOT),
                "PYTHONPATH": str(ROOT),
                **extra_env,
            }
            with temporary_settings({PREFECT_API_AUTH_STRING: LOGIN}):
                team = Team(server, env, root)
                set_up(team)
                for _ in range(workers):
                    team.start_worker()
                team.start_door()
                try:
                    yield team
                finally:
                    for worker in [*team.doors, *team.workers]:
                        stop_worker(worker)
    finally:
        for name_ in names:
            drop_database(name_)


def set_up(team: Team) -> None:
    """The README's production sequence, literally (files in the test's own folder)."""
    prefect_yaml = team.root / "prefect.yaml"
    for command in (
        ["runbook", "data", "migrate"],
        ["prefect", "work-pool", "create", WORK_POOL, "--type", "process"],
        ["runbook", "deployments", "--write", "--out", str(prefect_yaml)],
        ["prefect", "deploy", "--all", "--prefect-file", str(prefect_yaml)],
        ["runbook", "deployments", "--automations"],
    ):
        done = cli(team, *command)
        assert done.returncode == 0, f"{command}: {done.stdout[-3000:]}{done.stderr[-3000:]}"


def stop_worker(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            continue


def cli(team: Team, *args: str, login: bool = True) -> subprocess.CompletedProcess[str]:
    """A command in a process of its own, as a member of the team runs it (with the login)."""
    env = dict(team.env)
    if not login:
        env.pop("PREFECT_API_AUTH_STRING")
    command = list(args)
    if command[0] == "runbook":
        command = [sys.executable, "-m", "runbook_cli", *command[1:]]
    elif command[0] == "prefect":
        command = [sys.executable, "-m", "prefect", "--no-prompt", *command[1:]]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def wait_final(team: Team, flow_run: Any, timeout: float = 240) -> Any:
    """The run's final state, once it has one (failing if every worker exited meanwhile)."""
    deadline = time.monotonic() + timeout
    while not (state := state_of(flow_run)).is_final():
        assert team.live_workers(), "every worker exited"
        assert time.monotonic() < deadline, f"the run did not end: {state}"
        time.sleep(1)
    return state


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every second until true; fail saying `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(1)


def children(pid: int) -> list[int]:
    """The direct children of process `pid` (a worker's flow-run processes)."""
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def state_of(flow_run: Any) -> Any:
    """The run's current state, read from the server."""
    from prefect.client.orchestration import get_client

    async def read() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(flow_run.id)).state

    return asyncio.run(read())
