"""The ledger records each version the portal holds once, however often it was published."""

from __future__ import annotations

from datetime import UTC, datetime

from governance.ledger.audit_ledger import Ledger
from governance.ledger.intents import receipt_row


def test_a_version_published_again_by_a_retried_run_is_on_record_once(ledger: Ledger) -> None:
    incident = ledger.incidents.open("aggregate_profit", "etl_job_failure", datetime.now(UTC))
    receipts = [
        receipt_row("report", "r-1", "a" * 64, 1, datetime.now(UTC)),
        receipt_row("feed", "f-1", "b" * 64, 1, datetime.now(UTC)),
    ]
    for _ in range(2):  # the run, then its retry after a crash: same key, same receipts
        intent = ledger.intents.record(
            incident.id, "k-1", "aggregate_profit", "2026-03", "a" * 64, "b" * 64, ["B"]
        )
        assert ledger.intents.settle(intent, receipts)
    recorded = [
        (p.kind, p.receipt_id, p.version) for p in ledger.publications.of_incident(incident.id)
    ]
    assert recorded == [("report", "r-1", 1), ("feed", "f-1", 1)]
    assert ledger.intents.unsettled(incident.id) == []
