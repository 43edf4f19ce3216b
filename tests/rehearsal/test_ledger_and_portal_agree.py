"""The ledger and the portal agree, even when the ledger's database goes away, as an operator
lives it: a failure, its runbook, an approval, a publication, the ledger cut, the answer.

Scratch warehouse and portal (`rehearsal.play.scratch`), the ledger in a PostgreSQL database
of its own that the test cuts (no connections allowed, every session ended) and restores, the
session's Prefect server; the rehearsal answers approval gates as the `rehearsal` engineer.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from prefect.flow_runs import resume_flow_run
from typer.testing import CliRunner

from faults.portal_admin import PortalFaultAdmin
from flows.events.emit import failure_event_parameter
from flows.runtime.compiler import compile_runbook
from foundation.settings import get_settings, temporary_settings
from governance.ledger.audit_ledger import Ledger
from governance.ledger.availability import is_unavailable
from governance.ledger.migrate import upgrade_ledger
from portal.client import PortalClient
from rehearsal.play import scratch
from rehearsal.recovery import GateWatch, runbook_for
from rehearsal.workspace import Backend, Template
from runbook_cli.main import app
from tests.prefect_servers import ADMIN_URL, drop_database, postgres_reachable
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.job_logs import read_job_logs
from warehouse.runner import run_pipeline

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.timeout(600)]
PIPELINE, PARTITION = "aggregate_profit", "2026-03"


@dataclass
class LedgerDatabase:
    """The ledger's own PostgreSQL database, which the test can cut off and bring back."""

    name: str
    url: str

    def _admin(self, *statements: str) -> None:
        engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement), {"db": self.name})
        finally:
            engine.dispose()

    def cut(self) -> None:
        """No new connection is allowed and every open one is ended."""
        self._admin(
            f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db",
        )

    def restore(self) -> None:
        self._admin(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true')


@dataclass
class World:
    platform: Platform
    ledger: Ledger
    portal: PortalClient
    database: LedgerDatabase


@pytest.fixture
def world(prefect_server: None, templates: Callable[[Backend], Template]) -> Iterator[World]:
    if not postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    name = f"runbook_ledger_cut_{time.monotonic_ns()}"
    database = LedgerDatabase(name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    database._admin(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(database.url)
    upgrade_ledger(engine)
    engine.dispose()
    try:
        with scratch(templates("sqlite")), temporary_settings(audit_url=database.url):
            settings = get_settings()
            platform = Platform.from_settings(settings)
            ledger = Ledger.from_url(database.url)
            portal = PortalClient(settings.portal.portal_url, settings.portal.portal_token)
            try:
                yield World(platform, ledger, portal, database)
            finally:
                database.restore()
                portal.close()
                ledger.dispose()
                platform.dispose()
    finally:
        database.restore()
        drop_database(name)


def recover(world: World, event: dict[str, Any], answer: Callable[[], None]) -> Any:
    """Run the pipeline's runbook for `event` to its end, calling `answer` every quarter of a
    second while it runs (to answer its gate); the final state.

    The ledger may be cut meanwhile: a poll that finds it away is simply tried again.
    """
    compiled = compile_runbook(runbook_for(PIPELINE))
    box: list[Any] = []
    context = contextvars.copy_context()

    def go() -> None:
        box.append(context.run(asyncio.run, compiled.flow(event=event, return_state=True)))

    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    deadline = time.monotonic() + 300
    while worker.is_alive() and time.monotonic() < deadline:
        try:
            answer()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
        worker.join(0.25)
    assert box, "the runbook did not end"
    return box[0]


def paused(flow_run_id: str) -> bool:
    """Whether the run waits at its gate with the Resume form in place."""
    from prefect.client.orchestration import get_client

    async def read() -> bool:
        async with get_client() as client:
            run = await client.read_flow_run(UUID(flow_run_id))
            keyset = (run.state.state_details.run_input_keyset or {}) if run.state else {}
            if not (run.state and run.state.is_paused() and keyset.get("schema")):
                return False
            try:
                await client.read_flow_run_input(run.id, keyset["schema"])
            except Exception:  # the form is not saved yet
                return False
            return True

    return asyncio.run(read())


def publishing_failure() -> dict[str, Any]:
    failure = PipelineFailure(
        "report_publishing", PARTITION, "portal answered 503", pipeline=PIPELINE
    )
    return failure_event_parameter(failure)


def portal_versions(world: World, kind: str) -> list[tuple[int, str]]:
    history = world.portal.history(PIPELINE, PARTITION, kind)  # type: ignore[arg-type]
    return [] if history is None else [(r.version, r.sha256) for r in history.history]


def test_a_ledger_cut_mid_publish_records_exactly_the_portals_version_once_it_is_back(
    world: World,
) -> None:
    run_pipeline(world.platform, PIPELINE, PARTITION)
    settings = get_settings()
    event = publishing_failure()

    def cut_once_the_intent_is_on_record() -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if world.ledger.intents.unsettled():
                world.database.cut()  # the release request is on its way (the portal is slow)
                return
            time.sleep(0.05)

    cutter = threading.Thread(target=cut_once_the_intent_is_on_record, daemon=True)
    with PortalFaultAdmin(settings.portal.portal_url, settings.portal.portal_token) as plan:
        plan.set_faults({"mode": "slow", "delay": 4})
        cutter.start()
        final = recover(world, event, GateWatch(world.ledger, str(event["id"])).poll)
        plan.clear_faults()
    cutter.join(5)
    assert not final.is_completed()  # the run could not record its ending
    assert len(portal_versions(world, "report")) == 1  # but the portal stored the release

    world.database.restore()
    incident = world.ledger.incidents.find_by_event(event["id"])
    assert incident is not None and world.ledger.incidents.current_state(incident.id) == "approved"
    result = CliRunner().invoke(app, ["retry", str(incident.id), "--as", "C"])
    assert result.exit_code == 0, result.output
    assert "already holds its approved release (version 1)" in result.output
    assert world.ledger.incidents.current_state(incident.id) == "resolved"
    recorded = {
        p.kind: (p.version, p.sha256) for p in world.ledger.publications.of_incident(incident.id)
    }
    assert recorded == {
        "report": portal_versions(world, "report")[0],
        "feed": portal_versions(world, "feed")[0],
    }
    assert len(world.ledger.approvals.requests(incident.id)) == 1  # nothing asked twice


def test_an_answer_given_while_the_ledger_is_away_is_kept_and_published_once_it_returns(
    world: World,
) -> None:
    run_pipeline(world.platform, PIPELINE, PARTITION)
    event = publishing_failure()

    answered: list[str] = []

    def answer_while_the_ledger_is_away() -> None:
        """Once the gate waits, cut the ledger and answer through Prefect (the Resume form)."""
        incident = None if answered else world.ledger.incidents.find_by_event(event["id"])
        requests = world.ledger.approvals.requests(incident.id) if incident else []
        if not requests or not paused(requests[0].flow_run_id):
            return
        world.database.cut()
        threading.Timer(6, world.database.restore).start()
        run_input = {"approver": "rehearsal", "decision": "approve", "comment": "rehearsal"}
        resume_flow_run(UUID(requests[0].flow_run_id), run_input=run_input)
        answered.append(requests[0].flow_run_id)

    final = recover(world, event, answer_while_the_ledger_is_away)
    assert answered
    assert final.is_completed(), final.message
    incident = world.ledger.incidents.find_by_event(event["id"])
    assert incident is not None and world.ledger.incidents.current_state(incident.id) == "resolved"
    (request,) = world.ledger.approvals.requests(incident.id)
    assert [(a.who, a.decision) for a in world.ledger.approvals.answers(request.id)] == [
        ("rehearsal", "approve")
    ]
    assert [p.version for p in world.ledger.publications.of_incident(incident.id)] == [1, 1]
    assert len(portal_versions(world, "report")) == 1

    run_id = final.state_details.flow_run_id
    deadline = time.monotonic() + 30  # the API receives a run's logs in batches
    while True:
        lines = [line.message for line in asyncio.run(read_job_logs(run_id))]
        away = [m for m in lines if m.startswith("the audit ledger is unavailable")]
        back = [m for m in lines if m.startswith("the audit ledger is back")]
        if (away and back) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(away) == 1 and "the answer of rehearsal (approve) is kept" in away[0]
    assert any(m.startswith("the audit ledger is back") for m in lines)
    assert not [m for m in lines if "sqlalchemy" in m.lower()]
