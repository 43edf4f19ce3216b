"""What became of an incident's failure events, beside Prefect's event history (the
evidence's line)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, timedelta
from types import SimpleNamespace

import pytest

from flows.events.emit import deliver, failure_event
from flows.events.history import count_failure_events, duplicates_line
from governance.ledger.audit_ledger import Ledger
from tests.events.conftest import fresh_day

pytestmark = pytest.mark.prefect


def test_the_evidence_counts_the_partitions_failure_events_and_the_attached_ones(
    prefect_server: None,
) -> None:
    partition = fresh_day()
    events = [
        failure_event("unit_profit_experiments", "etl_job_failure", partition) for _ in range(5)
    ]
    other = failure_event("unit_profit_experiments", "etl_job_failure", fresh_day())
    opened = events[0].occurred
    asyncio.run(deliver([*events, other]))
    ledger = Ledger.from_settings()
    first = ledger.keys.open_or_attach(
        "unit_profit_experiments", partition, "etl_job_failure", opened, event_id=str(events[0].id)
    )
    ledger.keys.open_or_attach(
        "unit_profit_experiments", partition, "etl_job_failure", opened + timedelta(seconds=1),
        event_id=str(events[1].id),
    )  # fmt: skip
    deadline = time.monotonic() + 30  # the server stores events in batches
    while asyncio.run(count_failure_events("unit_profit_experiments", partition, opened)) < 5:
        assert time.monotonic() < deadline, "the events never reached Prefect's history"
        time.sleep(0.5)
    incident = {
        "id": first.incident.id,
        "event_id": str(events[0].id),
        "pipeline": "unit_profit_experiments",
        "partition": partition,
        "opened_at": opened.astimezone(UTC).isoformat(),
    }
    ctx = SimpleNamespace(incident=incident, services=SimpleNamespace(ledger=ledger))
    assert duplicates_line(ctx) == (
        "5 failure event(s) of this pipeline and partition in Prefect's history since it "
        "opened: 1 opened it, 1 attached, 0 byte-identical duplicate(s) dropped, 3 not "
        "decided by the event door yet"
    )
    hand_run = {**incident, "event_id": None}
    assert duplicates_line(SimpleNamespace(incident=hand_run, services=ctx.services)) is None
