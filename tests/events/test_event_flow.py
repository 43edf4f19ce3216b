"""The event path end to end on a real Prefect server (PostgreSQL) with `runbook serve`.

One server and one `runbook serve` (its event door) for the module; minutes of it, so `slow`
(`make test-full`): the door's decisions themselves are tested fast in `test_accounting.py`.
Events are posted to the REST API as many senders would, or sent by the project's own
emitter. Every event must end in the ledger as exactly one outcome; the flood is
RUNBOOK_TEST_FLOOD events (1,000 by default) and its cost in processes and memory is printed.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.events.emit import deliver, failure_event
from foundation.settings import temporary_settings
from governance.ledger.audit_ledger import Ledger
from governance.ledger.outcomes import EventOutcome
from runbook_cli.main import app
from testing.prefect_server import LocalServer
from testing.served import Served, flow_runs, post_events, serving, wait_armed, wait_for
from tests.e2e.serving import descendants, rss_kb
from tests.events.conftest import RUNBOOK, fresh_day
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]
FLOOD = int(os.environ.get("RUNBOOK_TEST_FLOOD", "1000"))
NAME = "unit-profit-experiments"
PIPELINE = "unit_profit_experiments"
HOLD = 6  # seconds the recovery holds its incident open
REJECTING = """
runbook: rejecting-growth
pipeline: daily_growth_experiments
on:
  - event: pipeline.failed
    match: {prefect.resource.id: pipeline.daily_growth_experiments}
steps:
  - id: approve
    uses: test.gate
    with: {decision: reject}
"""
"""A runbook whose gate always says no: its incidents end waiting for a person."""
REJECTING_NAME = "rejecting-growth"
LIMIT = 5  # flow-run processes `serve` runs at once (`serving`'s default); other tests' runs too


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

    def outcome(self, event: dict, timeout: float = 60) -> EventOutcome:
        """The event's outcome, once the door decided it."""
        ledger = self.ledger()
        found: list[EventOutcome] = []

        def decided() -> bool:
            found[:] = [o for o in [ledger.outcomes.of_event(event["id"])] if o is not None]
            return bool(found)

        wait_for(decided, timeout, f"no outcome for event {event['id']}", self.served)
        return found[0]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("events")
    runbooks, data, ran = root / "runbooks", root / "data", root / "ran.log"
    runbooks.mkdir()
    (runbooks / f"{NAME}.yaml").write_text(RUNBOOK.format(name=NAME, log=ran, seconds=HOLD))
    (runbooks / f"{REJECTING_NAME}.yaml").write_text(REJECTING)
    steps = {"RUNBOOK_STEP_MODULES": '["tests.step_types"]'}
    with (
        postgres_prefect_server("runbook_events_prefect") as server,
        serving(server, runbooks, data, extra_env=steps) as served,
    ):
        probe = raw(fresh_day())
        wait_armed(served, server.api_url, NAME, probe)
        stack = Stack(server, served, data, ran)
        wait_for(lambda: all_final(NAME), 60, "probe run", served)
        yield stack


def raw(partition: str, kind: str = "etl_job_failure", detail: str = "boom", **labels: str) -> dict:
    """A pipeline.failed event of unit_profit_experiments as JSON, its resource labels changed."""
    body = failure_event(PIPELINE, kind, partition, detail).model_dump(mode="json")
    body["resource"].update(labels)
    return body


def growth(partition: str, detail: str = "boom") -> dict:
    """A pipeline.failed event of daily_growth_experiments (the rejecting runbook's) as JSON."""
    body = failure_event("daily_growth_experiments", "etl_job_failure", partition, detail)
    return body.model_dump(mode="json")


def run_count(flow_name: str = NAME) -> int:
    return len(asyncio.run(flow_runs(flow_name)))


def all_final(flow_name: str = NAME) -> bool:
    return all(r.state and r.state.is_final() for r in asyncio.run(flow_runs(flow_name)))


def keyed(ledger: Ledger, partition: str, kind: str | None = None) -> list:
    """Incidents of unit_profit_experiments for this partition (of this kind)."""
    import sqlalchemy as sa

    from governance.ledger import schema as t

    query = sa.select(t.incidents.c.id).where(t.incidents.c.partition == partition)
    with ledger.engine.connect() as conn:
        found = [ledger.incidents.get(i) for i in conn.execute(query).scalars()]
    return [i for i in found if kind is None or i.kind == kind]


def resolved(stack: Stack, incident_id: int) -> bool:
    return stack.ledger().incidents.current_state(incident_id) == "resolved"


def test_a_failure_after_its_incident_resolved_opens_a_second_incident(stack: Stack) -> None:
    partition = fresh_day()
    first = stack.outcome(post(stack, raw(partition)))
    assert first.outcome == "opened"
    wait_for(lambda: resolved(stack, first.incident_id), 120, "first recovery", stack.served)
    time.sleep(10)
    second = stack.outcome(post(stack, raw(partition)))  # the same failure, 10 s later
    assert second.outcome == "opened" and second.incident_id != first.incident_id
    wait_for(lambda: resolved(stack, second.incident_id), 120, "second recovery", stack.served)
    assert len(keyed(stack.ledger(), partition)) == 2


def test_two_kinds_two_seconds_apart_make_one_incident_with_both_kinds_and_the_owners_told(
    stack: Stack,
) -> None:
    partition = fresh_day()
    before = run_count()
    first = stack.outcome(post(stack, raw(partition, "source_outage")))
    time.sleep(2)
    second = stack.outcome(post(stack, raw(partition, "data_quality")))
    assert (first.outcome, second.outcome) == ("opened", "attached")
    assert second.incident_id == first.incident_id
    ledger = stack.ledger()
    kinds = {o.kind for o in ledger.outcomes.of_incident(first.incident_id)}
    assert kinds == {"source_outage", "data_quality"}
    told = [
        n for n in ledger.notifications.of_incident(first.incident_id) if n.reason == "new_failure"
    ]
    assert sorted(n.recipient for n in told) == ["A", "B"]  # the pipeline's owners
    assert "second failure kind, data_quality" in second.detail["told"]
    wait_for(lambda: resolved(stack, first.incident_id), 120, "the recovery", stack.served)
    assert run_count() == before + 1


def test_a_refused_event_does_not_stop_the_genuine_one_five_seconds_later(stack: Stack) -> None:
    partition = fresh_day()
    forged = stack.outcome(post(stack, raw(partition, **{"pipeline.partition": "1999-01-01"})))
    assert forged.outcome == "refused"
    assert "differs from" in " ".join(forged.detail["reasons"])
    time.sleep(5)
    genuine = stack.outcome(post(stack, raw(partition)))
    assert genuine.outcome == "opened"
    wait_for(lambda: resolved(stack, genuine.incident_id), 120, "the recovery", stack.served)


def test_a_nul_from_the_projects_emitter_is_refused_on_record_and_no_other_event_is_lost(
    stack: Stack,
) -> None:
    nul = failure_event(PIPELINE, "etl_job_failure", f"{fresh_day()}\x00", "a\x00b")
    others = [failure_event(PIPELINE, "etl_job_failure", fresh_day()) for _ in range(3)]
    asyncio.run(deliver([nul, *others]))
    refused = stack.outcome(nul.model_dump(mode="json"))
    assert refused.outcome == "refused"
    assert "\\x00" in refused.partition and "\x00" not in refused.partition
    for other in others:
        assert stack.outcome(other.model_dump(mode="json")).outcome == "opened"
    wait_for(all_final, 180, "the three recoveries", stack.served)


def test_a_flood_of_thirty_refusals_is_one_incident_and_one_page(stack: Stack) -> None:
    partition = fresh_day()
    flood = [raw(partition, **{"pipeline.partition": f"x{n}"}) for n in range(30)]
    before = run_count()
    post_events(stack.server.api_url, flood)
    outcomes = [stack.outcome(event) for event in flood]
    assert {o.outcome for o in outcomes} == {"refused"}
    incidents = {o.incident_id for o in outcomes}
    assert len(incidents) == 1
    (incident,) = incidents
    ledger = stack.ledger()
    pages = [n.recipient for n in ledger.notifications.of_incident(incident)]
    assert pages and len(pages) == len(set(pages)), pages  # each person paged once
    assert ledger.incidents.current_state(incident) == "closed"  # no SLA clock on the board
    assert run_count() == before  # refusals start no process
    print(f"\n30 refusals -> incident {incident}, paged {pages} once, no run")


def test_an_incident_waiting_for_a_person_closed_by_command_lets_the_next_failure_open_anew(
    stack: Stack,
) -> None:
    partition = fresh_day()
    first = stack.outcome(post(stack, growth(partition, "boom")))
    assert first.outcome == "opened"
    incident = first.incident_id
    assert incident is not None

    def ended() -> bool:  # the gate said no; the incident sync records the run's ending
        return stack.ledger().incidents.current_state(incident) == "failed"

    wait_for(ended, 180, "the rejection", stack.served)
    again = stack.outcome(post(stack, growth(partition, "again")))
    assert (again.outcome, again.incident_id) == ("attached", incident)
    assert "waits for a person (failed): no recovery is running" in again.detail["told"]
    notes = stack.ledger().notifications.of_incident(incident)
    assert sorted(n.recipient for n in notes if n.reason == "new_failure") == ["C", "D"]
    with temporary_settings(data_dir=stack.data):
        closed = CliRunner().invoke(
            app, ["incidents", "close", str(incident), "--reason", "bad source", "--as", "D"]
        )
    assert closed.exit_code == 0, closed.output
    third = stack.outcome(post(stack, growth(partition, "third")))
    assert third.outcome == "opened" and third.incident_id != incident
    wait_for(all_final_of(REJECTING_NAME), 180, "the second recovery", stack.served)


def all_final_of(flow_name: str):  # type: ignore[no-untyped-def]
    return lambda: all_final(flow_name)


def test_an_event_of_an_unknown_pipeline_is_refused_on_record(stack: Stack) -> None:
    unknown = raw(fresh_day())
    unknown["resource"]["prefect.resource.id"] = "pipeline.moon_base"
    refused = stack.outcome(post(stack, unknown))
    assert refused.outcome == "refused"
    assert (
        "no runbook recovers 'pipeline.moon_base' (unknown pipeline)"
        in refused.detail["reasons"][0]
    )


def test_a_flood_of_duplicates_is_one_incident_at_a_bounded_cost(stack: Stack) -> None:
    """The flood's incident stays open however long the door takes (its gate says no: it
    waits for a person), so every copy after the first is a duplicate on it."""
    partition = fresh_day()
    before = run_count(REJECTING_NAME)
    events = [growth(partition) for _ in range(FLOOD)]
    peak = Peak(stack.served.process.pid)
    with peak:
        started = time.monotonic()
        post_events(stack.server.api_url, events)
        posted = time.monotonic() - started
        last = stack.outcome(events[-1], timeout=300)
        decided = time.monotonic() - started
    outcomes = [stack.ledger().outcomes.of_event(e["id"]) for e in events]
    counts = {k: sum(1 for o in outcomes if o and o.outcome == k) for k in ("opened", "duplicate")}
    assert counts == {"opened": 1, "duplicate": FLOOD - 1}, counts
    assert {o.incident_id for o in outcomes if o} == {last.incident_id}
    wait_for(all_final_of(REJECTING_NAME), 120, "the recovery", stack.served)
    assert run_count(REJECTING_NAME) == before + 1
    with temporary_settings(data_dir=stack.data):
        shown = CliRunner().invoke(app, ["audit", str(last.incident_id)])
    assert f"{FLOOD - 1} byte-identical duplicate(s) dropped" in shown.output, shown.output
    print(
        f"\nflood: {FLOOD} duplicates posted in {posted:.1f} s, all decided {decided:.1f} s "
        f"after the first -> 1 run, 1 incident; serve's process tree at most "
        f"{peak.processes} processes, {peak.rss_mb:.0f} MB"
    )
    assert peak.processes <= 1 + LIMIT  # serve and its runs at most, not one per event


def post(stack: Stack, event: dict) -> dict:
    post_events(stack.server.api_url, [event])
    return event


class Peak:
    """The most processes and resident memory of a process tree while the block runs."""

    def __init__(self, root: int) -> None:
        self.root, self.processes, self.rss_mb = root, 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            tree = descendants(self.root)
            self.processes = max(self.processes, len(tree))
            self.rss_mb = max(self.rss_mb, sum(rss_kb(pid) for pid in tree) / 1024)
            time.sleep(0.2)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
