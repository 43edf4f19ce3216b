"""Kill the serving side at any point: every run ends or resumes, nothing is published twice,
and no incident stays open without a live run or a notification.

A real Prefect server (PostgreSQL) and `runbook serve` in a subprocess, SIGKILLed:
- alone, mid-recovery: its flow-run process reports the run Crashed and stops (no orphan);
- with all its processes, mid-recovery: the crash watch notices the missing heartbeats
  (slow: Prefect's heartbeat floor is 30 s, the watch waits three);
- while a gate waits: the suspended run has no process to lose; it is approved while serve
  is down and publishes once serve is back.
After a restart the incident sync retries a crashed run once from its last completed step.
Cancelled, forced and expired runs are written into the ledger and someone is told.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.states import Cancelled, Completed

from flows.approval.answering import after_delivery, answer_gate
from flows.operations.crash_watch import SILENCE_SECONDS
from flows.runtime.run_services import open_command_services
from testing.prefect_server import LocalServer
from tests.e2e.serving import (
    Serving,
    deployment_ready,
    failure_event,
    gated_runbook,
    publications,
    run,
    session_members,
    start_runs,
    start_serving,
    states,
    suspended,
    wait_for,
)
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # serve processes, SIGKILL: make test-full

SLOW = "slow-e2e"
GATED = "quick-e2e"
EXPIRING = "expiring-e2e"
SYNC_REASONS = {
    "recovery_crashed",
    "recovery_cancelled",
    "recovery_failed",
    "recovery_forced",
    "approval_timed_out",
}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with postgres_prefect_server("runbook_e2e_crash") as s:
        yield s


@dataclass
class Site:
    """A served runbook library, its ledger and its outputs; serve can be restarted."""

    server: LocalServer
    root: Path
    audit_url: str
    serving: Serving | None = None

    @property
    def published(self) -> Path:
        return self.root / "published.txt"

    @property
    def started(self) -> Path:
        return self.root / "slow.log"

    def start(self) -> Serving:
        self.serving = start_serving(
            self.server, self.root / "runbooks", self.root / "data", self.audit_url
        )
        for name in (SLOW, GATED, EXPIRING, "incident-sync"):
            wait_for(
                lambda n=name: run(deployment_ready(f"{n}/{n}")), 120, f"no {name}", self.serving
            )
        return self.serving

    def kill(self, *, group: bool) -> Serving:
        """SIGKILL serve (alone, or with every process of its session); the dead one."""
        assert self.serving is not None
        dead, self.serving = self.serving, None
        dead.kill_hard(group=group)
        return dead

    def wait_state(
        self, flow_run_id: UUID, ok: Callable[[Any], bool], what: str, timeout: float = 180
    ) -> None:
        wait_for(lambda: ok(run(states([flow_run_id]))[flow_run_id]), timeout, what, self.serving)

    def mid_step(self, flow_run_id: UUID) -> None:
        """Wait until the run is inside its slow step."""
        wait_for(
            lambda: self.started.exists() and str(flow_run_id) in self.started.read_text(),
            180,
            "the slow step did not start",
            self.serving,
        )


@pytest.fixture
def site(server: LocalServer, tmp_path: Path, audit_url: str) -> Iterator[Site]:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    published, started = tmp_path / "published.txt", tmp_path / "slow.log"
    (runbooks / f"{SLOW}.yaml").write_text(gated_runbook(SLOW, published, slow=10, log=started))
    (runbooks / f"{GATED}.yaml").write_text(gated_runbook(GATED, published))
    (runbooks / f"{EXPIRING}.yaml").write_text(gated_runbook(EXPIRING, published, timeout="20s"))
    here = Site(server, tmp_path, audit_url)
    try:
        yield here
    finally:
        if here.serving is not None:
            here.serving.stop()


def story(audit_url: str, flow_run_id: UUID) -> dict[str, Any]:
    """The run's incident as the ledger tells it."""
    with open_command_services(audit_url=audit_url) as services:
        ledger = services.ledger
        incident = ledger.incidents.of_run(str(flow_run_id))
        assert incident is not None
        return {
            "states": [e.state for e in ledger.incidents.events(incident.id)],
            "steps": [(s.step_id, s.state) for s in ledger.steps.of_incident(incident.id)],
            "notices": [n.reason for n in ledger.notifications.of_incident(incident.id)],
            "current": ledger.incidents.current_state(incident.id),
        }


def approve(audit_url: str, flow_run_id: UUID, wait: float = 120) -> Any:
    with open_command_services(audit_url=audit_url) as services:
        return run(answer_gate(str(flow_run_id), "A", "approve", "", services.ledger, wait))


def force(flow_run_id: UUID, state: Any) -> None:
    """Set a run's state through the API, as an operator (or a script) might."""

    async def go() -> None:
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, state, force=True)

    asyncio.run(go())


def no_incident_left_alone(audit_url: str) -> None:
    """Every open incident has a live run or a notification about how its run ended."""
    with open_command_services(audit_url=audit_url) as services:
        ledger = services.ledger
        for board in ledger.open_incidents(services.governance):
            incident = board.incident
            flow_run_id = UUID(str(incident.flow_run_id))
            live = run(states([flow_run_id]))[flow_run_id]
            told = {n.reason for n in ledger.notifications.of_incident(incident.id)} & SYNC_REASONS
            assert (live is not None and not live.is_final()) or told, (incident, board.state)


def told_of(audit_url: str, flow_run_id: UUID, state: str, reason: str) -> bool:
    """Whether the run's incident is in `state` and someone was notified for `reason`."""
    told = story(audit_url, flow_run_id)
    return told["current"] == state and reason in told["notices"]


def orphans_gone(serving: Serving) -> bool:
    """No process of serve's session is left (its flow-run processes stopped too)."""
    return not session_members(serving.process.pid)


@pytest.mark.timeout(900)
def test_serve_killed_mid_recovery_and_while_the_gate_waits_the_run_still_publishes_once(
    site: Site,
) -> None:
    site.start()
    [flow_run_id] = run(start_runs(f"{SLOW}/{SLOW}", [failure_event(1)]))
    site.mid_step(flow_run_id)

    dead = site.kill(group=False)  # serve alone: its flow-run process must not run on
    site.wait_state(flow_run_id, lambda s: s is not None and s.is_crashed(), "not Crashed", 30)
    wait_for(lambda: orphans_gone(dead), 30, "an orphaned flow-run process lives on")

    site.start()  # the incident sync runs now and retries the run once
    site.wait_state(flow_run_id, suspended, "the retried run did not reach its gate", 240)
    site.kill(group=True)  # and again, while the gate waits

    assert approve(site.audit_url, flow_run_id, wait=3) is None  # delivered, not ruled on yet
    assert run(after_delivery(str(flow_run_id))) is None  # it can still continue
    site.start()
    site.wait_state(flow_run_id, lambda s: s.is_completed(), "not completed after restart", 240)

    assert publications(site.published) == {str(flow_run_id): 1}
    told = story(site.audit_url, flow_run_id)
    ran = [step for step, _ in told["steps"]]
    assert ran.count("counts") == 1  # finished before the crash: restored, not run again
    assert ran.count("slow") == 1  # killed in the middle: ran again, recorded once
    assert site.started.read_text().split().count(str(flow_run_id)) == 2
    assert "crashed" in told["states"] and told["current"] == "resolved"


@pytest.mark.timeout(600)
def test_cancelled_forced_and_expired_runs_are_recorded_and_someone_is_told(site: Site) -> None:
    site.start()
    runs = run(start_runs(f"{GATED}/{GATED}", [failure_event(n) for n in (10, 11)]))
    [expired] = run(start_runs(f"{EXPIRING}/{EXPIRING}", [failure_event(12)]))
    for flow_run_id in [*runs, expired]:
        site.wait_state(flow_run_id, suspended, "not suspended", 240)
    cancelled, forced = runs
    force(cancelled, Cancelled(message="cancelled by hand"))
    force(forced, Completed(message="forced by hand"))
    # `expired` waits: its gate's 20 s deadline passes with no process to notice

    expected = {
        cancelled: ("cancelled", "recovery_cancelled"),
        forced: ("needs_attention", "recovery_forced"),
        expired: ("timed_out", "approval_timed_out"),
    }
    for flow_run_id, (state, reason) in expected.items():
        wait_for(
            lambda f=flow_run_id, s=state, r=reason: told_of(site.audit_url, f, s, r),
            180,
            f"the ledger did not record {state} and tell someone ({reason})",
            site.serving,
        )
    assert publications(site.published) == {}
    no_incident_left_alone(site.audit_url)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_run_crashing_twice_is_left_to_a_person_who_is_told(site: Site) -> None:
    site.start()
    [flow_run_id] = run(start_runs(f"{SLOW}/{SLOW}", [failure_event(20)]))
    for attempt in (1, 2):
        wait_for(
            lambda a=attempt: (
                site.started.exists()
                and site.started.read_text().split().count(str(flow_run_id)) == a
            ),
            240,
            f"attempt {attempt} did not reach its slow step",
            site.serving,
        )
        site.kill(group=False)
        site.wait_state(flow_run_id, lambda s: s is not None and s.is_crashed(), "no crash", 30)
        site.start()

    wait_for(
        lambda: told_of(site.audit_url, flow_run_id, "needs_attention", "recovery_crashed"),
        180,
        "the second crash was not left to a person",
        site.serving,
    )
    told = story(site.audit_url, flow_run_id)
    assert told["states"].count("crashed") == 2
    assert publications(site.published) == {}
    no_incident_left_alone(site.audit_url)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_serve_and_its_processes_killed_the_crash_watch_marks_the_run_and_it_is_retried(
    site: Site,
) -> None:
    site.start()
    [flow_run_id] = run(start_runs(f"{SLOW}/{SLOW}", [failure_event(30)]))
    site.mid_step(flow_run_id)
    site.kill(group=True)  # the whole serving side: nobody reports anything
    site.start()

    site.wait_state(
        flow_run_id,
        lambda s: s is not None and (s.is_crashed() or suspended(s)),
        "the crash watch did not mark the silent run",
        SILENCE_SECONDS + 150,
    )
    site.wait_state(flow_run_id, suspended, "the retried run did not reach its gate", 240)
    assert approve(site.audit_url, flow_run_id).accepted
    site.wait_state(flow_run_id, lambda s: s.is_completed(), "not completed after approval")
    assert publications(site.published) == {str(flow_run_id): 1}
    told = story(site.audit_url, flow_run_id)
    assert "crashed" in told["states"] and told["current"] == "resolved"
    no_incident_left_alone(site.audit_url)
