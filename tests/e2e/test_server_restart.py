"""The Prefect server SIGKILLed mid-recovery and again while the gate waits, then restarted:
the run publishes once after approval, and the next failure of that partition recovers (the
partition lock was not left taken by a lease the server forgot).

A real Prefect server on PostgreSQL (leases on disk, as the production profile says), and
`runbook serve` with its event door; failures are reported as events, as pipelines do.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from uuid import UUID

import pytest

from flows.events.emit import failure_event
from governance.ledger.audit_ledger import Ledger
from testing.prefect_server import LocalServer, local_prefect_server, reset_postgres_database
from testing.served import post_events
from tests.e2e.serving import (
    deployment_ready,
    gated_runbook,
    publications,
    run,
    start_serving,
    states,
    suspended,
    wait_for,
)
from tests.e2e.test_crash_convergence import approve
from tests.prefect_servers import ADMIN_URL, drop_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]
NAME = "restart-e2e"
PARTITION = "2025-03"
ON = """on:
  - event: pipeline.failed
    match: {prefect.resource.id: pipeline.aggregate_profit}
steps:
"""


class Servers:
    """One Prefect database; a server on it that can be SIGKILLed and started again."""

    def __init__(self, stack: ExitStack) -> None:
        self.database = f"runbook_restart_{os.getpid()}"
        self.url = reset_postgres_database(ADMIN_URL, self.database, for_prefect=True)
        self.stack = stack
        self.current: LocalServer = stack.enter_context(local_prefect_server(self.url))

    def kill_and_restart(self) -> None:
        os.killpg(self.current.pid, signal.SIGKILL)
        time.sleep(2)
        self.current = self.stack.enter_context(
            local_prefect_server(self.url, restart_of=self.current)
        )


@pytest.fixture
def servers() -> Iterator[Servers]:
    with ExitStack() as stack:
        found = Servers(stack)
        try:
            yield found
        finally:
            stack.close()
            drop_database(found.database)


def report_failure(server: LocalServer) -> dict:
    event = failure_event("aggregate_profit", "data_quality", PARTITION, "restart test")
    body = event.model_dump(mode="json")
    post_events(server.api_url, [body])
    return body


def test_server_killed_mid_recovery_and_at_the_gate_publishes_once_and_frees_the_partition(
    servers: Servers, tmp_path: Path, audit_url: str
) -> None:
    runbooks, published, slow = tmp_path / "runbooks", tmp_path / "published.txt", tmp_path / "s"
    runbooks.mkdir()
    text = gated_runbook(NAME, published, slow=8, log=slow).replace("steps:\n", ON, 1)
    (runbooks / f"{NAME}.yaml").write_text(text)
    serving = start_serving(servers.current, runbooks, tmp_path / "data", audit_url)
    try:
        wait_for(lambda: run(deployment_ready(f"{NAME}/{NAME}")), 120, "no deployment", serving)
        first = report_failure(servers.current)
        flow_run_id = _run_of(audit_url, first["id"], serving)
        wait_for(lambda: slow.exists() and str(flow_run_id) in slow.read_text(), 120,
                 "the slow step did not start", serving)  # fmt: skip

        servers.kill_and_restart()  # mid-recovery, the partition lock held
        _wait_state(flow_run_id, suspended, "the run did not reach its gate", serving)
        servers.kill_and_restart()  # while the gate waits
        assert approve(audit_url, flow_run_id).accepted
        _wait_state(flow_run_id, lambda s: s.is_completed(), "not completed", serving)
        assert publications(published) == {str(flow_run_id): 1}

        second = report_failure(servers.current)  # the next failure of that partition
        next_run = _run_of(audit_url, second["id"], serving)
        assert next_run != flow_run_id
        _wait_state(next_run, suspended, "the next recovery did not reach its gate", serving)
        assert approve(audit_url, next_run).accepted
        _wait_state(next_run, lambda s: s.is_completed(), "next not completed", serving)
        assert publications(published) == {str(flow_run_id): 1, str(next_run): 1}
    finally:
        serving.stop()


def _run_of(audit_url: str, event_id: str, serving) -> UUID:  # type: ignore[no-untyped-def]
    """The recovery run the event door opened for the event."""
    ledger = Ledger.from_url(audit_url)
    try:
        wait_for(
            lambda: ledger.incidents.find_by_event(event_id) is not None,
            120,
            "no incident",
            serving,
        )
        incident = ledger.incidents.find_by_event(event_id)
        assert incident is not None and incident.flow_run_id
        return UUID(incident.flow_run_id)
    finally:
        ledger.dispose()


def _wait_state(flow_run_id: UUID, ok, what: str, serving) -> None:  # type: ignore[no-untyped-def]
    def reached() -> bool:
        try:
            state = run(states([flow_run_id]))[flow_run_id]
        except Exception:  # the server is starting again
            return False
        return state is not None and ok(state)

    wait_for(reached, 300, what, serving)
