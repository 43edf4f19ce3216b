"""An approval counts again only for the same bytes, in the same incident, fully on record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from foundation.engines import engine_for
from governance.ledger.audit_ledger import Ledger
from governance.ledger.migrate import upgrade_ledger
from recovery_tasks.approval_reuse import earlier_approval

SHA = "a" * 64
SAW = {"report.sha256": SHA, "report.feed_sha256": "f" * 64}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    engine = engine_for(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade_ledger(engine)
    with Ledger(engine) as opened:
        yield opened


def approved_run(
    ledger: Ledger, run: str, saw: dict[str, str] = SAW, *, authorized: bool = True
) -> int:
    """An incident whose run `run` approved, having seen `saw`."""
    incident = ledger.incidents.open(
        "aggregate_profit", "report_publishing", datetime.now(UTC), partition="2026-03",
        event_id="event-1", runbook="aggregate-profit", flow_run_id="run-1",
    )  # fmt: skip
    approval = {"outputs": {"decision": "approved", "approvers": ["A"], "saw": saw}}
    request = ledger.approvals.record_request(incident.id, run, "approve-1", ["A", "B"])
    ledger.approvals.record_answer(
        request.id, "A", "approve", authorized=authorized,
        reason=None if authorized else "not on call",
    )  # fmt: skip
    ledger.steps.record(incident.id, "approve", "completed", result=approval,
                              flow_run_id=run)  # fmt: skip
    return incident.id


def test_an_approval_of_the_same_bytes_in_another_run_counts(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1")
    found = earlier_approval(ledger, incident, dict(SAW), "run-2")
    assert found is not None and found.approvers == ["A"] and found.flow_run_id == "run-1"


@pytest.mark.parametrize(
    "now",
    [
        {"report.sha256": "b" * 64, "report.feed_sha256": "f" * 64},  # another report
        {"report.sha256": SHA, "report.feed_sha256": "e" * 64},  # same report, new feed
        {**SAW, "second.sha256": "c" * 64},  # a second report nobody saw
        {"report.sha256": SHA},  # the feed the approver saw is gone
        {},  # nothing built: nothing was approved
    ],
)
def test_anything_but_every_byte_the_approver_saw_does_not_count(
    ledger: Ledger, now: dict[str, str]
) -> None:
    incident = approved_run(ledger, "run-1")
    assert earlier_approval(ledger, incident, now, "run-2") is None


def test_the_current_run_does_not_approve_itself(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1")
    assert earlier_approval(ledger, incident, dict(SAW), "run-1") is None


def test_an_approval_without_an_authorized_answer_on_record_does_not_count(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1", authorized=False)
    assert earlier_approval(ledger, incident, dict(SAW), "run-2") is None


def test_an_approval_that_recorded_no_bytes_does_not_count(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1", saw={})
    assert earlier_approval(ledger, incident, dict(SAW), "run-2") is None
