"""The production profile of the README, as a team runs it, command for command.

A Prefect server on PostgreSQL with basic auth; the ledger and the warehouse on PostgreSQL; a
process work pool with two `prefect worker` processes; the deployments from the generated
prefect.yaml (`prefect deploy --all`) and the standing automations (`runbook deployments
--automations`). Proven on it: a failure reported by `runbook emit` recovers on the pool; a
gated recovery refuses a typed name and publishes once after `runbook approve` with the
approver's code; an unanswered gate escalates to the
backup and the owners; a worker SIGKILLed mid-recovery: the run is marked Crashed, retried from
its last finished step on the other worker, and ends; the weekly report runs on its schedule
(compressed to every minute).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.local_serve import flow_runs
from deployments.local_server import LocalServer, local_prefect_server, reset_postgres_database
from deployments.prefect_yaml import WORK_POOL
from flows.run_services import open_command_services
from governance.approval_codes import CodeScope, issue_code
from tests.e2e.serving import STEP_MODULES, publications
from tests.events.conftest import RUNBOOK
from tests.prefect_servers import ADMIN_URL, drop_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "runbooks:a-long-secret"
APPROVAL_SECRET = "the-team-approval-secret"
NAME = "unit-profit-experiments"
GATED = "profit-on-pool"
LONG = "engagement-on-pool"
CRASH_SILENCE = 40  # seconds without a heartbeat (every 30 s) before a run is marked Crashed

GATED_RUNBOOK = """
runbook: {name}
pipeline: aggregate_profit
on:
  - event: pipeline.failed
    match: {{prefect.resource.id: pipeline.aggregate_profit}}
params:
  partition: {{type: string, from: "{{{{ event.payload.partition }}}}"}}
steps:
  - id: counts
    uses: test.add
    with: {{a: 40, b: 2}}
  - id: approve
    uses: approval.on_call
    needs: [counts]
    timeout: 30m
    with: {{approvers: [A, B], escalate_after: 10s}}
  - id: publish
    uses: e2e.publish
    needs: [approve]
    with: {{target: "{published}"}}
"""

LONG_RUNBOOK = """
runbook: {name}
pipeline: aggregate_engagement
on:
  - event: pipeline.failed
    match: {{prefect.resource.id: pipeline.aggregate_engagement}}
params:
  partition: {{type: string, from: "{{{{ event.payload.partition }}}}"}}
steps:
  - id: first
    uses: test.echo
    with: {{log: "{first}"}}
  - id: slow
    uses: e2e.slow
    needs: [first]
    with: {{seconds: 30, log: "{slow}"}}
  - id: last
    uses: test.echo
    needs: [slow]
    with: {{log: "{first}"}}
"""


@dataclass
class Team:
    """The locked server, the environment every client of the team sets, and the workers."""

    server: LocalServer
    env: dict[str, str]
    root: Path
    workers: list[subprocess.Popen] = field(default_factory=list)

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


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    from prefect.settings import PREFECT_API_AUTH_STRING, temporary_settings

    root = tmp_path_factory.mktemp("profile")
    runbooks = root / "runbooks"
    runbooks.mkdir()
    (runbooks / f"{NAME}.yaml").write_text(
        RUNBOOK.format(name=NAME, log=root / "ran.log", seconds=0)
    )
    (runbooks / f"{GATED}.yaml").write_text(
        GATED_RUNBOOK.format(name=GATED, published=root / "published.txt")
    )
    (runbooks / f"{LONG}.yaml").write_text(
        LONG_RUNBOOK.format(name=LONG, first=root / "first.log", slow=root / "slow.log")
    )
    pid = os.getpid()
    names = [f"runbook_profile_{part}_{pid}" for part in ("prefect", "audit", "warehouse")]
    database, audit, warehouse = (reset_postgres_database(ADMIN_URL, n) for n in names)
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
                "RUNBOOK_RUNBOOKS_DIR": str(runbooks),
                "RUNBOOK_STEP_MODULES": str(STEP_MODULES).replace("'", '"'),
                "RUNBOOK_DATA_DIR": str(root / "data"),
                "RUNBOOK_AUDIT_URL": audit.replace("postgresql+asyncpg", psycopg),
                "RUNBOOK_WAREHOUSE_URL": warehouse.replace("postgresql+asyncpg", psycopg),
                "RUNBOOK_PROJECT_DIR": str(ROOT),
                "RUNBOOK_CRASH_SILENCE_SECONDS": str(CRASH_SILENCE),
                "RUNBOOK_REPORT_CRON": "* * * * *",  # the weekly report, every minute
                "PYTHONPATH": str(ROOT),
                "RUNBOOK_PROFILE": "production",  # answers at gates must prove who gave them
                "RUNBOOK_APPROVAL_SECRET": APPROVAL_SECRET,
            }
            with temporary_settings({PREFECT_API_AUTH_STRING: LOGIN}):
                team = Team(server, env, root)
                set_up(team)
                try:
                    yield team
                finally:
                    for worker in team.workers:
                        stop_worker(worker)
    finally:
        for name in names:
            drop_database(name)


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
    for _ in range(2):
        team.start_worker()


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


def emit(team: Team, pipeline: str, partition: str, kind: str = "etl_job_failure") -> None:
    done = cli(team, "runbook", "emit", pipeline, "--kind", kind, "--partition", partition)
    assert done.returncode == 0, done.stderr


def test_migrating_again_on_postgresql_succeeds(team: Team) -> None:
    again = cli(team, "runbook", "data", "migrate")
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_api_answers_only_with_the_login(team: Team) -> None:
    api = team.server.api_url
    assert httpx.get(f"{api}/health").status_code == 200  # the health check stays open
    assert httpx.post(f"{api}/flows/filter", json={}).status_code == 401
    user, password = LOGIN.split(":")
    allowed = httpx.post(f"{api}/flows/filter", json={}, auth=(user, password))
    assert allowed.status_code == 200


def test_a_client_without_the_login_is_refused_in_one_line(team: Team) -> None:
    emitted = cli(
        team, "runbook", "emit", "unit_profit_experiments", "--kind", "etl_job_failure",
        "--partition", "2026-10-14", login=False,
    )  # fmt: skip
    assert emitted.returncode == 1
    assert emitted.stderr.splitlines() == [
        f"error: event not delivered: 401 Unauthorized from {team.server.api_url}: the Prefect "
        "server requires a login: set PREFECT_API_AUTH_STRING=user:password (the server's "
        "PREFECT_SERVER_API_AUTH_STRING)"
    ]


def test_the_pool_holds_every_deployment_of_the_application(team: Team) -> None:
    listed = cli(team, "runbook", "deployments")
    assert listed.returncode == 0, listed.stderr
    wanted = {line.split()[0] for line in listed.stdout.splitlines()}
    assert {
        f"{GATED}/{GATED}",
        "incident-sync/incident-sync",
        "escalate-approval/escalate",
        "incident-report/weekly",
        "sla-watch/sla-watch",
        "pipeline-failed-intake/pipeline-failed-intake",
    } <= wanted
    on_server = set(asyncio.run(_deployment_names()))
    assert on_server == wanted
    assert asyncio.run(_automation_names()) >= {"runbook-crash-watch"}


def test_a_failure_event_is_recovered_by_a_worker_of_the_process_pool(team: Team) -> None:
    started = first_run_after_events(
        team, NAME, lambda day: emit(team, "unit_profit_experiments", f"2026-10-{day:02d}")
    )
    state = wait_final(team, started)
    assert state.is_completed(), state
    assert started.work_pool_name == WORK_POOL
    with open_command_services(audit_url=team.env["RUNBOOK_AUDIT_URL"]) as services:
        incident = services.ledger.incident_of_run(str(started.id))
        assert incident is not None and incident.pipeline == "unit_profit_experiments"
        assert services.ledger.current_state(incident.id) == "resolved"
    assert (team.root / "ran.log").read_text().split()[:1] == ["recovered"]


def test_a_gated_recovery_publishes_once_after_approval_and_an_unanswered_gate_escalates(
    team: Team,
) -> None:
    run = first_run_after_events(
        team, GATED, lambda month: emit(team, "aggregate_profit", f"2025-{month:02d}")
    )
    wait_for(lambda: _state(run).is_paused(), 180, "the gate did not open on the pool")
    assert not publications(team.root / "published.txt")  # nothing before an answer

    audit_url = team.env["RUNBOOK_AUDIT_URL"]

    def escalated() -> list[Any]:
        with open_command_services(audit_url=audit_url) as services:
            incident = services.ledger.incident_of_run(str(run.id))
            assert incident is not None
            marks = [e for e in services.ledger.events(incident.id) if e.state == "escalated"]
            sent = services.ledger.notifications(incident.id)
            return marks + [n for n in sent if n.reason == "escalation"]

    # nobody answers for `escalate_after` (10 s): the escalation deployment runs on the pool
    wait_for(lambda: len(escalated()) >= 2, 180, "no escalation on record from the pool")

    typed = cli(team, "runbook", "approve", str(run.id), "--as", "B")  # a name is no proof
    assert typed.returncode == 1 and "unverified" in typed.stdout, typed.stdout + typed.stderr
    wait_for(lambda: _state(run).is_paused(), 180, "the gate did not pause again on the pool")
    code = code_sent_to(audit_url, str(run.id), "B")
    answered = cli(team, "runbook", "approve", str(run.id), "--as", "B", "--code", code)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    state = wait_final(team, run)
    assert state.is_completed(), state
    assert publications(team.root / "published.txt") == {str(run.id): 1}
    with open_command_services(audit_url=audit_url) as services:
        incident = services.ledger.incident_of_run(str(run.id))
        assert incident is not None
        assert services.ledger.current_state(incident.id) == "resolved"


def test_a_worker_killed_mid_recovery_the_other_worker_finishes_the_run_from_its_last_step(
    team: Team,
) -> None:
    run = first_run_after_events(
        team, LONG, lambda month: emit(team, "aggregate_engagement", f"2024-{month:02d}")
    )
    slow_log = team.root / "slow.log"
    wait_for(lambda: slow_log.exists() and str(run.id) in slow_log.read_text(), 180, "slow step")
    holder = next(w for w in team.live_workers() if _children(w.pid))
    os.killpg(holder.pid, signal.SIGKILL)  # the worker and the run's process with it
    holder.wait(10)
    assert len(team.live_workers()) == 1

    # Crashed first (the run's process reports it, or the crash watch after the silence),
    # then the incident sync reschedules it once and the other worker takes it
    wait_for(lambda: _state(run).is_completed(), CRASH_SILENCE + 240, "the run did not complete")
    steps_run = (team.root / "first.log").read_text().split()
    assert steps_run == ["first", "last"]  # `first` came back from the ledger, not re-run
    assert [line.split()[0] for line in slow_log.read_text().splitlines()] == [str(run.id)] * 2
    history = asyncio.run(_state_names(run))
    assert "Crashed" in history, history
    with open_command_services(audit_url=team.env["RUNBOOK_AUDIT_URL"]) as services:
        incident = services.ledger.incident_of_run(str(run.id))
        assert incident is not None
        assert services.ledger.current_state(incident.id) == "resolved"
    team.start_worker()  # the team restarts the worker it lost


def test_the_weekly_report_runs_on_its_schedule_on_the_pool(team: Team) -> None:
    def reported() -> bool:
        runs = asyncio.run(flow_runs("incident-report"))
        return any(r.state is not None and r.state.is_completed() for r in runs)

    wait_for(reported, 240, "no weekly report ran on its (compressed) schedule")
    artifact = asyncio.run(_artifact("incident-report"))
    assert artifact is not None and "# Incident report" in str(artifact.data)


def first_run_after_events(team: Team, flow_name: str, report: Callable[[int], None]) -> Any:
    """Report failures of new partitions until one starts a run of `flow_name`.

    The server loads a deployment's trigger a moment after `prefect deploy`: an event before
    that starts nothing, so the test reports another partition until a run appears.
    """
    before = {r.id for r in asyncio.run(flow_runs(flow_name))}
    deadline = time.monotonic() + 180
    n = 0
    while time.monotonic() < deadline:
        n += 1
        report(n)
        until = time.monotonic() + 20
        while time.monotonic() < until:
            runs = [r for r in asyncio.run(flow_runs(flow_name)) if r.id not in before]
            if runs:
                return runs[0]
            time.sleep(0.5)
    raise AssertionError(f"no event started {flow_name}")


def wait_final(team: Team, flow_run: Any, timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while not (state := _state(flow_run)).is_final():
        assert team.live_workers(), "every worker exited"
        assert time.monotonic() < deadline, f"the run did not end: {state}"
        time.sleep(1)
    return state


def code_sent_to(audit_url: str, flow_run_id: str, approver: str) -> str:
    """The approval code the gate sent `approver` (the team's contacts here are unreachable
    mail, so it is signed again from the secret, exactly as the gate signed it)."""
    with open_command_services(audit_url=audit_url) as services:
        first = services.ledger.approval_requests_of_run(flow_run_id)[0]
    assert first.step_id and first.timeout_at
    scope = CodeScope(flow_run_id, first.step_id, first.timeout_at)
    return issue_code(APPROVAL_SECRET.encode(), scope, approver)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(1)


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def _state(flow_run: Any) -> Any:
    from prefect.client.orchestration import get_client

    async def read() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(flow_run.id)).state

    return asyncio.run(read())


async def _state_names(flow_run: Any) -> list[str]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return [s.name for s in await client.read_flow_run_states(flow_run.id)]


async def _deployment_names() -> list[str]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        names = []
        for deployment in await client.read_deployments():
            flow = await client.read_flow(deployment.flow_id)
            names.append(f"{flow.name}/{deployment.name}")
        return names


async def _automation_names() -> set[str]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return {a.name for a in await client.read_automations()}


async def _artifact(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    return found[0] if found else None
