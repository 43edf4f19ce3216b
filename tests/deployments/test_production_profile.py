"""The production profile of the README, as a team runs it, command for command.

A Prefect server on PostgreSQL with basic auth; the ledger and the warehouse on PostgreSQL; a
process work pool with two `prefect worker` processes; the deployments from the generated
prefect.yaml (`prefect deploy --all`), the standing automations (`runbook deployments
--automations`) and `runbook door` deciding the failure events. Proven on it: a failure
reported by `runbook emit` recovers on the pool; a gated recovery refuses a typed name and
publishes once after `runbook approve` with the approver's code (the approver's name through
REST resume, their code used by another engineer, after expiry, for another run or twice:
refused and recorded); an unanswered gate escalates
to the backup and the owners; a worker SIGKILLed mid-recovery: the run is marked Crashed,
retried from its last finished step on the other worker, and ends; the weekly report runs on
its schedule (compressed to every minute).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from deployments.prefect_yaml import WORK_POOL
from flows.runtime.run_services import open_command_services
from governance.approval_codes import CodeScope, issue_code
from testing.served import flow_runs
from tests.deployments.team import (
    LOGIN,
    Team,
    children,
    cli,
    locked_team,
    state_of,
    wait_final,
    wait_for,
)
from tests.e2e.serving import publications
from tests.events.conftest import RUNBOOK

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]

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


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
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
    compressed = {
        "RUNBOOK_RUNBOOKS_DIR": str(runbooks),
        "RUNBOOK_CRASH_SILENCE_SECONDS": str(CRASH_SILENCE),
        "RUNBOOK_REPORT_CRON": "* * * * *",  # the weekly report, every minute
        "RUNBOOK_PROFILE": "production",  # answers at gates must prove who gave them
        "RUNBOOK_APPROVAL_SECRET": APPROVAL_SECRET,
    }
    with locked_team(root, "profile", compressed) as team:
        yield team


def code_sent_to(audit_url: str, flow_run_id: str, approver: str) -> str:
    """The approval code the gate sent `approver` (the team's contacts here are unreachable
    mail, so it is signed again from the secret, exactly as the gate signed it)."""
    with open_command_services(audit_url=audit_url) as services:
        first = services.ledger.approvals.requests_of_run(flow_run_id)[0]
    assert first.step_id and first.timeout_at
    scope = CodeScope(flow_run_id, first.step_id, first.timeout_at)
    return issue_code(APPROVAL_SECRET.encode(), scope, approver)


def _signed(scope: CodeScope) -> str:
    return issue_code(APPROVAL_SECRET.encode(), scope, "B")


def answers_of(audit_url: str, flow_run_id: str) -> list[tuple[str, bool, str | None]]:
    """Every answer the gates of this run recorded: who, whether it counted, why not."""
    with open_command_services(audit_url=audit_url) as services:
        ledger = services.ledger
        return [
            (a.who, a.authorized, a.reason)
            for r in ledger.approvals.requests_of_run(flow_run_id)
            for a in ledger.approvals.answers(r.id)
        ]


def refused_on_pool(team: Team, run: Any, who: str, code: str, why: str) -> None:
    """`runbook approve --as who --code code` once the gate waits again: refused for `why`."""
    wait_for(lambda: state_of(run).is_paused(), 180, "the gate did not pause again on the pool")
    done = cli(team, "runbook", "approve", str(run.id), "--as", who, "--code", code)
    assert done.returncode == 1 and why in done.stdout, done.stdout + done.stderr


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
    assert asyncio.run(_automation_names()) >= {"runbook-crash-watch", "runbook-pending-watch"}


def test_a_failure_event_is_recovered_by_a_worker_of_the_process_pool(team: Team) -> None:
    started = first_run_after_events(
        team, NAME, lambda day: emit(team, "unit_profit_experiments", f"2026-10-{day:02d}")
    )
    state = wait_final(team, started)
    assert state.is_completed(), state
    assert started.work_pool_name == WORK_POOL
    with open_command_services(audit_url=team.env["RUNBOOK_AUDIT_URL"]) as services:
        incident = services.ledger.incidents.of_run(str(started.id))
        assert incident is not None and incident.pipeline == "unit_profit_experiments"
        assert services.ledger.incidents.current_state(incident.id) == "resolved"
    assert (team.root / "ran.log").read_text().split()[:1] == ["recovered"]


def test_a_gated_recovery_publishes_once_after_approval_and_an_unanswered_gate_escalates(
    team: Team,
) -> None:
    run = first_run_after_events(
        team, GATED, lambda month: emit(team, "aggregate_profit", f"2025-{month:02d}")
    )
    wait_for(lambda: state_of(run).is_paused(), 180, "the gate did not open on the pool")
    assert not publications(team.root / "published.txt")  # nothing before an answer

    audit_url = team.env["RUNBOOK_AUDIT_URL"]

    def escalated() -> list[Any]:
        with open_command_services(audit_url=audit_url) as services:
            incident = services.ledger.incidents.of_run(str(run.id))
            assert incident is not None
            marks = [
                e for e in services.ledger.incidents.events(incident.id) if e.state == "escalated"
            ]
            sent = services.ledger.notifications.of_incident(incident.id)
            return marks + [n for n in sent if n.reason == "escalation"]

    # nobody answers for `escalate_after` (10 s): the escalation deployment runs on the pool
    wait_for(lambda: len(escalated()) >= 2, 180, "no escalation on record from the pool")

    # someone not on call answers as B: a typed name, then B's name through REST resume
    typed = cli(team, "runbook", "approve", str(run.id), "--as", "B")  # a name is no proof
    assert typed.returncode == 1 and "unverified" in typed.stdout, typed.stdout + typed.stderr
    wait_for(lambda: state_of(run).is_paused(), 180, "the gate did not pause again on the pool")
    user, password = LOGIN.split(":")
    resumed = httpx.post(
        f"{team.server.api_url}/flow_runs/{run.id}/resume",
        json={"run_input": {"approver": "B", "decision": "approve"}},
        auth=(user, password),
    )
    assert resumed.status_code == 201, resumed.text
    wait_for(lambda: len(answers_of(audit_url, str(run.id))) == 2, 180, "no ruling on REST")
    code = code_sent_to(audit_url, str(run.id), "B")
    # B's code used by A, after its expiry, and a code for another run: all refused
    refused_on_pool(team, run, "A", code, "this approval code was issued to B, not to 'A'")
    expired = CodeScope(str(run.id), "approve", datetime.now(UTC) - timedelta(seconds=1))
    refused_on_pool(team, run, "B", _signed(expired), "this approval code expired at")
    elsewhere = CodeScope(str(uuid.uuid4()), "approve", datetime.now(UTC) + timedelta(hours=1))
    refused_on_pool(team, run, "B", _signed(elsewhere), "not valid for this run's gate")
    assert not publications(team.root / "published.txt")
    wait_for(lambda: state_of(run).is_paused(), 180, "the gate did not pause again on the pool")
    answered = cli(team, "runbook", "approve", str(run.id), "--as", "B", "--code", code)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    state = wait_final(team, run)
    assert state.is_completed(), state
    again = cli(team, "runbook", "approve", str(run.id), "--as", "B", "--code", code)
    assert again.returncode == 1 and "can no longer continue" in again.stderr, again.stderr
    assert publications(team.root / "published.txt") == {str(run.id): 1}
    ruled = answers_of(audit_url, str(run.id))
    refusals = [("B", False), ("B", False), ("A", False), ("B", False), ("B", False)]
    assert [(who, ok) for who, ok, _ in ruled] == [*refusals, ("B", True)]
    assert all(why and why.startswith("unverified: ") for _, ok, why in ruled if not ok)
    with open_command_services(audit_url=audit_url) as services:
        incident = services.ledger.incidents.of_run(str(run.id))
        assert incident is not None
        assert services.ledger.incidents.current_state(incident.id) == "resolved"


def test_a_worker_killed_mid_recovery_the_other_worker_finishes_the_run_from_its_last_step(
    team: Team,
) -> None:
    run = first_run_after_events(
        team, LONG, lambda month: emit(team, "aggregate_engagement", f"2024-{month:02d}")
    )
    slow_log = team.root / "slow.log"
    wait_for(lambda: slow_log.exists() and str(run.id) in slow_log.read_text(), 180, "slow step")
    holder = next(w for w in team.live_workers() if children(w.pid))
    os.killpg(holder.pid, signal.SIGKILL)  # the worker and the run's process with it
    holder.wait(10)
    assert len(team.live_workers()) == 1

    # Crashed first (the run's process reports it, or the crash watch after the silence),
    # then the incident sync reschedules it once and the other worker takes it
    wait_for(lambda: state_of(run).is_completed(), CRASH_SILENCE + 240, "the run did not complete")
    steps_run = (team.root / "first.log").read_text().split()
    assert steps_run == ["first", "last"]  # `first` came back from the ledger, not re-run
    assert [line.split()[0] for line in slow_log.read_text().splitlines()] == [str(run.id)] * 2
    history = asyncio.run(_state_names(run))
    assert "Crashed" in history, history
    with open_command_services(audit_url=team.env["RUNBOOK_AUDIT_URL"]) as services:
        incident = services.ledger.incidents.of_run(str(run.id))
        assert incident is not None
        assert services.ledger.incidents.current_state(incident.id) == "resolved"
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
