"""The event path end to end on a real Prefect server (PostgreSQL) with `runbook serve`.

One server and one `runbook serve` for the module. Floods are posted straight to the REST
API, as many senders would. The flood is RUNBOOK_TEST_FLOOD events (1,000 by default).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deployments.local_serve import Served, flow_runs, post_events, serving, wait_armed, wait_for
from deployments.local_server import LocalServer
from flows.events.emit import failure_event
from flows.events.history import count_failure_events
from foundation.settings import temporary_settings
from governance.ledger import Ledger
from runbook_cli.main import app
from tests.events.conftest import RUNBOOK, fresh_day
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]
FLOOD = int(os.environ.get("RUNBOOK_TEST_FLOOD", "1000"))
NAME = "unit-profit-experiments"
INTAKE = "pipeline-failed-intake"


@dataclass
class Stack:
    """The module's server, serve process, ledger folder and runbook log."""

    server: LocalServer
    served: Served
    data: Path
    ran: Path

    def ledger(self) -> Ledger:
        with temporary_settings(data_dir=self.data):
            return Ledger.from_settings()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("events")
    runbooks, data, ran = root / "runbooks", root / "data", root / "ran.log"
    runbooks.mkdir()
    (runbooks / f"{NAME}.yaml").write_text(RUNBOOK.format(name=NAME, log=ran, seconds=2))
    steps = {"RUNBOOK_STEP_MODULES": '["tests.step_types"]'}
    with (
        postgres_prefect_server("runbook_events_prefect") as server,
        serving(server, runbooks, data, extra_env=steps) as served,
    ):
        probe = raw(fresh_day())
        wait_armed(served, server.api_url, NAME, probe)
        stack = Stack(server, served, data, ran)
        wait_for(lambda: run_count(NAME) == 1 and all_final(NAME), 60, "probe run", served)
        yield stack


def raw(partition: str, kind: str = "etl_job_failure", **changes: object) -> dict:
    """A pipeline.failed event of unit_profit_experiments as JSON, with fields replaced."""
    event = failure_event("unit_profit_experiments", kind, partition, "boom")
    body = event.model_dump(mode="json")
    body.update(changes)
    return body


def run_count(flow_name: str) -> int:
    return len(asyncio.run(flow_runs(flow_name)))


def all_final(flow_name: str) -> bool:
    return all(r.state and r.state.is_final() for r in asyncio.run(flow_runs(flow_name)))


def keyed(ledger: Ledger, partition: str) -> list:
    """Incidents of unit_profit_experiments for this partition."""
    import sqlalchemy as sa

    from governance import ledger_schema as t

    query = sa.select(t.incidents.c.id).where(t.incidents.c.partition == partition)
    with ledger.engine.connect() as conn:
        return [ledger.incident(i) for i in conn.execute(query).scalars()]


def history(server: LocalServer, partition: str, since) -> int:  # type: ignore[no-untyped-def]
    return asyncio.run(count_failure_events("unit_profit_experiments", partition, since))


def test_a_flood_of_duplicates_makes_one_run_one_incident_one_notification(stack: Stack) -> None:
    partition = fresh_day()
    before = run_count(NAME)
    events = [raw(partition) for _ in range(FLOOD)]
    started = time.monotonic()
    post_events(stack.server.api_url, events)
    posted = time.monotonic() - started
    since = min(e["occurred"] for e in events)
    opened = datetime.fromisoformat(since)
    wait_for(lambda: history(stack.server, partition, opened) >= FLOOD, 180, "events stored")
    wait_for(
        lambda: run_count(NAME) > before and all_final(NAME), 120, "the recovery", stack.served
    )
    time.sleep(3)  # a second run, if the trigger let one through, would be created by now
    assert run_count(NAME) == before + 1, f"posted {FLOOD} events in {posted:.1f} s"
    ledger = stack.ledger()
    incidents = keyed(ledger, partition)
    assert len(incidents) == 1
    incident = incidents[0]
    told = [n.recipient for n in ledger.notifications(incident.id)]
    assert told and len(told) == len(set(told)), told  # the notify step ran once
    with temporary_settings(data_dir=stack.data):
        shown = CliRunner().invoke(app, ["audit", str(incident.id)])
    assert shown.exit_code == 0, shown.output
    assert f"duplicates: {FLOOD} failure event(s) of this pipeline and partition" in shown.output
    assert f"{FLOOD - 1} absorbed by the trigger's window" in shown.output
    attached = len(ledger.attached_events(incident.id))
    print(
        f"\nflood: {FLOOD} duplicate events posted in {posted:.1f} s -> 1 run, "
        f"{len(incidents)} incident, notified {told} once; {attached} attached to the incident, "
        f"{FLOOD - 1} absorbed by the trigger's window"
    )


def test_two_kinds_for_one_partition_make_one_incident_and_one_recovery(stack: Stack) -> None:
    partition = fresh_day()
    before = run_count(NAME)
    post_events(stack.server.api_url, [raw(partition), raw(partition, kind="source_outage")])
    wait_for(
        lambda: run_count(NAME) > before and all_final(NAME), 120, "the recovery", stack.served
    )
    time.sleep(3)
    assert run_count(NAME) == before + 1
    incidents = keyed(stack.ledger(), partition)
    # Both events arrive in one request; whichever the trigger takes first names the incident.
    assert len(incidents) == 1
    assert incidents[0].kind in {"etl_job_failure", "source_outage"}
    print(f"\ntwo kinds for one partition -> 1 run, 1 incident ({incidents[0].kind})")


def _refused_on_record(
    stack: Stack, flow_name: str, pipeline: str, before: int, event: dict
) -> tuple:
    """The refusal of `event` by the last run of `flow_name`: its duration and its reasons
    (and, printed, the time from the event to the refusal on record)."""
    wait_for(
        lambda: run_count(flow_name) > before and all_final(flow_name), 120, flow_name, stack.served
    )
    runs = asyncio.run(flow_runs(flow_name))
    refused = [r for r in runs if r.state and r.state.is_failed()]
    assert refused, [r.state for r in runs]
    last = refused[-1]
    ledger = stack.ledger()
    incident = ledger.incident_of_run(str(last.id))
    assert incident is not None and incident.kind == "invalid_event"
    assert incident.pipeline == pipeline
    refused = next(e for e in ledger.events(incident.id) if e.state == "failed")
    assert [n.reason for n in ledger.notifications(incident.id)][:1] == ["invalid_event"]
    on_record = (refused.at - last.start_time).total_seconds()  # run running -> refusal recorded
    sent = datetime.fromisoformat(event["occurred"])
    print(f"\nevent -> refusal on record {(refused.at - sent).total_seconds():.2f} s", end="")
    return on_record, " ".join(refused.detail["refused"])


def test_an_event_of_an_unknown_pipeline_is_refused_and_recorded(stack: Stack) -> None:
    before = run_count(INTAKE)
    unknown = raw(fresh_day())
    unknown["resource"] = {**unknown["resource"], "prefect.resource.id": "pipeline.moon_base"}
    post_events(stack.server.api_url, [unknown])
    seconds, reason = _refused_on_record(stack, INTAKE, "moon_base", before, unknown)
    assert "no runbook recovers 'pipeline.moon_base' (unknown pipeline)" in reason
    print(f"; unknown pipeline refused on record {seconds:.3f} s after its intake run started")
    assert seconds < 1.0


def test_an_event_over_prefects_parameter_limit_is_refused_and_recorded(stack: Stack) -> None:
    before = run_count(NAME)
    huge = raw(fresh_day())
    huge["payload"] = {**huge["payload"], "detail": "x" * 600_000}
    post_events(stack.server.api_url, [huge])
    seconds, reason = _refused_on_record(stack, NAME, "unit_profit_experiments", before, huge)
    assert "payload: over 200,000 characters of JSON" in reason
    print(f"; 600 KB payload refused on record {seconds:.3f} s after its run started")
    assert seconds < 1.0
