"""The door of a recovery run on a real Prefect server: refuse bad events, one incident a key."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from pathlib import Path

import pytest

from flows.language.catalog import PipelineCatalog
from governance.ledger.audit_ledger import Ledger
from tests.events.conftest import event_param, events_runbook, fresh_day, run

pytestmark = [pytest.mark.prefect]


def _started(state) -> datetime:  # type: ignore[no-untyped-def]
    """When the flow run began running (the server's record)."""
    from prefect.client.orchestration import get_client

    async def read() -> datetime:
        async with get_client() as client:
            flow_run = await client.read_flow_run(state.state_details.flow_run_id)
        assert flow_run.start_time is not None
        return flow_run.start_time

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"kind": "meteor_strike"}, "is not one of source_outage"),
        ({"partition": "2026-W0\u0663"}, "non-ASCII"),
        ({"partition": "'; DROP TABLE x;--"}, "bad day partition"),
        ({"partition": "../../etc/passwd"}, "bad day partition"),
        ({"partition": "9999-12-31"}, "year 9999 is outside"),
        ({"detail": "x" * 20_000}, "payload.detail"),
    ],
    ids=["unknown-kind", "non-ascii", "sql", "path", "year-9999", "oversized-detail"],
)
def test_a_bad_event_is_refused_at_once_with_its_reason_on_record(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path, payload: dict, reason: str
) -> None:
    log = tmp_path / "ran.log"
    event = event_param(fresh_day(), **payload)
    if "partition" in payload:
        event["resource"]["pipeline.partition"] = payload["partition"]
    state = run(events_runbook(catalog, log), event=event)
    assert state.is_failed() and state.name == "Refused"
    assert str(state.message).startswith("invalid pipeline.failed event: ")
    assert not log.exists()  # no step ran
    ledger = Ledger.from_settings()
    incident = ledger.incidents.find_by_event(event["id"])
    assert incident is not None and incident.kind == "invalid_event"
    assert ledger.incidents.current_state(incident.id) == "failed"
    refused = next(e for e in ledger.incidents.events(incident.id) if e.state == "failed")
    assert reason in " ".join(refused.detail["refused"])
    seconds = (refused.at - _started(state)).total_seconds()  # run running -> on record
    print(f"\nrefused ({reason}) on record {seconds:.3f} s after the run started")
    assert seconds < 5.0  # no step, no retry, no backoff before the refusal (about 0.1 s idle)
    assert [n.reason for n in ledger.notifications.of_incident(incident.id)] == ["invalid_event"]


def test_a_second_event_of_an_open_partition_attaches_and_starts_nothing(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    log = tmp_path / "ran.log"
    compiled = events_runbook(catalog, log, seconds=3)
    partition = fresh_day()
    first_event = event_param(partition)
    results: list = []
    first = threading.Thread(target=lambda: results.append(run(compiled, event=first_event)))
    first.start()
    ledger = Ledger.from_settings()
    import time

    deadline = time.monotonic() + 30
    while ledger.incidents.find_by_event(first_event["id"]) is None:
        assert time.monotonic() < deadline, "the first run opened no incident"
        time.sleep(0.1)
    second_event = event_param(partition, kind="source_outage")
    second = run(compiled, event=second_event)
    first.join(60)
    assert results[0].is_completed() and results[0].name == "Completed"
    assert second.is_completed() and second.name == "Attached"
    assert "attached to open incident" in str(second.message)
    # it did not wait for the first run: it ended while that run's 3-second step still held
    # (an order, not a wall-clock bound, so parallel workers on a busy machine cannot fail it)
    assert _started(second) < second.timestamp < results[0].timestamp
    assert log.read_text().split() == ["recovered"]  # one recovery ran
    incident = ledger.incidents.find_by_event(first_event["id"])
    assert incident is not None and ledger.incidents.find_by_event(second_event["id"]) is None
    attached = ledger.keys.attached_events(incident.id)
    assert [(a["event_id"], a["kind"]) for a in attached] == [(second_event["id"], "source_outage")]
    tells = {n.reason for n in ledger.notifications.of_incident(incident.id)}
    assert tells == {"runbook:" + compiled.name}  # one notification step ran, once
