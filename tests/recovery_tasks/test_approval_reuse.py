"""An approval counts again only for the same bytes, in the same incident, fully on record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from foundation.engines import engine_for
from governance.ledger import Ledger
from governance.ledger_migrations import upgrade_ledger
from recovery_tasks.approval_reuse import earlier_approval

SHA = "a" * 64


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    engine = engine_for(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade_ledger(engine)
    with Ledger(engine) as opened:
        yield opened


def approved_run(
    ledger: Ledger, run: str, sha: str = SHA, *, authorized: bool = True, order: str = "ra"
) -> int:
    incident = ledger.open_incident(
        "aggregate_profit", "report_publishing", datetime.now(UTC), partition="2026-03",
        event_id="event-1", runbook="aggregate-profit", flow_run_id="run-1",
    )  # fmt: skip
    report = {"outputs": {"sha256": sha, "rows": 39}}
    approval = {"outputs": {"decision": "approved", "approvers": ["A"]}}
    for step in order:
        if step == "r":
            ledger.record_step_result(incident.id, "report", "completed", result=report,
                                      flow_run_id=run)  # fmt: skip
        else:
            request = ledger.record_approval_request(incident.id, run, "approve-1", ["A", "B"])
            ledger.record_answer(
                request.id, "A", "approve", authorized=authorized,
                reason=None if authorized else "not on call",
            )  # fmt: skip
            ledger.record_step_result(incident.id, "approve", "completed", result=approval,
                                      flow_run_id=run)  # fmt: skip
    return incident.id


def test_an_approval_of_the_same_bytes_in_another_run_counts(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1")
    found = earlier_approval(ledger, incident, SHA, "run-2")
    assert found is not None and found.approvers == ["A"] and found.flow_run_id == "run-1"


def test_other_bytes_do_not_count(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1")
    assert earlier_approval(ledger, incident, "b" * 64, "run-2") is None


def test_the_current_run_does_not_approve_itself(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1")
    assert earlier_approval(ledger, incident, SHA, "run-1") is None


def test_an_approval_without_an_authorized_answer_on_record_does_not_count(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1", authorized=False)
    assert earlier_approval(ledger, incident, SHA, "run-2") is None


def test_an_approval_given_before_the_report_was_built_does_not_count(ledger: Ledger) -> None:
    incident = approved_run(ledger, "run-1", order="ar")
    assert earlier_approval(ledger, incident, SHA, "run-2") is None
