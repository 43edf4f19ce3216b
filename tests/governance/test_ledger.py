"""The audit ledger on SQLite and PostgreSQL: append-only facts, derived state, the story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.ledger import schema as t
from governance.ledger.audit_ledger import Ledger, LedgerError
from governance.ledger.records import IncidentState
from governance.models import GovernanceConfig
from tests.governance.conftest import migrated_ledger

T0 = datetime(2026, 1, 21, 10, 0, tzinfo=UTC)  # week 2: C primary, D backup


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _open(ledger: Ledger, event_id: str = "ev-1", pipeline: str = "aggregate_profit") -> int:
    incident = ledger.incidents.open(
        pipeline, "etl_failure", T0, partition="2026-01", event_id=event_id,
        runbook="aggregate-profit", flow_run_id="run-1",
    )  # fmt: skip
    return incident.id


def test_open_incident_is_idempotent_per_event(ledger: Ledger) -> None:
    first = ledger.incidents.open("aggregate_profit", "etl_failure", T0, event_id="ev-1")
    again = ledger.incidents.open("aggregate_profit", "etl_failure", _at(5), event_id="ev-1")
    assert again == first
    assert first.opened_at == T0
    assert ledger.incidents.current_state(first.id) == "opened"
    other = ledger.incidents.open("aggregate_profit", "etl_failure", T0)
    assert other.id != first.id


def test_state_is_the_latest_lifecycle_event_not_a_marker(ledger: Ledger) -> None:
    incident = _open(ledger)
    ledger.incidents.record_state(incident, "recovering", at=_at(1))
    ledger.incidents.record_state(incident, IncidentState.AWAITING_APPROVAL, at=_at(10))
    ledger.incidents.record_state(incident, "notified", at=_at(11), detail={"to": "C"})
    assert ledger.incidents.current_state(incident) == "awaiting_approval"
    ledger.incidents.record_state(incident, "rejected", at=_at(20), actor="C", detail="counts off")
    assert ledger.incidents.current_state(incident) == "rejected"
    states = [e.state for e in ledger.incidents.events(incident)]
    assert states == ["opened", "recovering", "awaiting_approval", "notified", "rejected"]
    with pytest.raises(ValueError):
        ledger.incidents.record_state(incident, "sort_of_done")


def test_answers_are_appended_authorized_or_refused(ledger: Ledger) -> None:
    incident = _open(ledger)
    request = ledger.approvals.record_request(
        incident, "run-1", "paused-1", ["C", "D", "B", "A", "C"], min_approvals=2,
        requested_at=_at(10), escalate_at=_at(40),
    )  # fmt: skip
    assert request.approvers == ("A", "B", "C", "D")
    assert ledger.approvals.record_request(incident, "run-1", "paused-1", ["X"]) == request
    ledger.approvals.record_answer(request.id, "E", "approve", authorized=False,
                         reason="E is not on call or an owner", answered_at=_at(12))  # fmt: skip
    ledger.approvals.record_answer(request.id, "C", "approve", authorized=True, comment="ok",
                         answered_at=_at(15))  # fmt: skip
    answers = ledger.approvals.answers(request.id)
    assert [(a.who, a.authorized, a.reason) for a in answers] == [
        ("E", False, "E is not on call or an owner"),
        ("C", True, None),
    ]
    assert answers[0].answered_at == _at(12)
    with pytest.raises(ValueError, match="reason"):
        ledger.approvals.record_answer(request.id, "E", "approve", authorized=False)
    with pytest.raises(ValueError, match="decision"):
        ledger.approvals.record_answer(request.id, "C", "maybe", authorized=True)
    with pytest.raises(ValueError, match="never approve by default"):
        ledger.approvals.record_request(incident, "run-1", "paused-2", ["C"], min_approvals=0)


def test_nothing_is_updated_in_place(ledger: Ledger) -> None:
    incident = _open(ledger)
    request = ledger.approvals.record_request(incident, "run-1", "paused-1", ["C"])
    ledger.approvals.record_answer(request.id, "C", "reject", authorized=True)
    ledger.approvals.record_answer(
        request.id, "C", "approve", authorized=True
    )  # the gate ignores it
    ledger.incidents.record_state(incident, "rejected")
    ledger.incidents.record_state(incident, "recovering")
    with ledger.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(t.approval_answers)).scalar()
    assert count == 2
    assert [a.decision for a in ledger.approvals.answers(request.id)] == ["reject", "approve"]


def test_open_incidents_board(ledger: Ledger, config: GovernanceConfig) -> None:
    profit = _open(ledger, "ev-1")
    ledger.incidents.record_state(profit, "awaiting_approval", at=_at(30))
    experiments = _open(ledger, "ev-2", pipeline="unit_profit_experiments")
    done = _open(ledger, "ev-3")
    ledger.incidents.record_state(done, "published", at=_at(60))
    gone = _open(ledger, "ev-4", pipeline="retired_pipeline")
    board = ledger.open_incidents(config, now=_at(180))
    assert [(b.incident.id, b.state) for b in board] == [
        (profit, "awaiting_approval"), (experiments, "opened"), (gone, "opened"),
    ]  # fmt: skip
    first = board[0]
    assert first.owners == ("B", "A")
    assert (first.on_call.primary, first.on_call.backup) == ("C", "D")
    assert first.sla is not None
    assert first.sla.time_left == timedelta(hours=1)
    assert first.sla.crossed == (0.5, 0.75)
    assert board[1].sla is not None and board[1].sla.time_left == timedelta(hours=21)
    assert board[2].sla is None and board[2].owners == ()


def test_sla_threshold_markers_are_remembered(ledger: Ledger) -> None:
    incident = _open(ledger)
    ledger.incidents.record_state(incident, "sla_threshold", detail={"threshold": 0.5})
    assert ledger.incidents.notified_thresholds(incident) == {0.5}


def test_story_tells_everything_in_time_order(ledger: Ledger) -> None:
    incident = _open(ledger)
    ledger.incidents.record_state(incident, "recovering", at=_at(1))
    ledger.steps.record(incident, "rerun", "Completed", started_at=_at(1),
                              ended_at=_at(6), result={"rows": 120})  # fmt: skip
    ledger.steps.record(incident, "scan_logs", "Completed", started_at=_at(0),
                              ended_at=_at(1), result=["no errors"])  # fmt: skip
    request = ledger.approvals.record_request(incident, "run-1", "paused-1", ["C", "D"],
                                             requested_at=_at(7), escalate_at=_at(37))  # fmt: skip
    ledger.incidents.record_state(incident, "awaiting_approval", at=_at(7))
    ledger.notifications.record_notification("C", "webhook", "approval requested", delivered=True,
                               incident_id=incident, target="http://x", sent_at=_at(8))  # fmt: skip
    ledger.approvals.record_answer(
        request.id, "E", "approve", authorized=False, reason="not authorized", answered_at=_at(9)
    )
    ledger.approvals.record_answer(
        request.id, "C", "approve", authorized=True, comment="looks right", answered_at=_at(10)
    )
    ledger.incidents.record_state(incident, "approved", at=_at(10), actor="C")
    ledger.publications.record(incident, "aggregate_profit", "2026-01", "report", "rcpt-9",
                              "ab" * 32, published_at=_at(11), version=2)  # fmt: skip
    ledger.incidents.record_state(incident, "published", at=_at(11))
    story = ledger.incident_story(incident)
    assert [(line.at - T0, line.what) for line in story] == [
        (timedelta(0), "opened"),
        (timedelta(minutes=1), "recovering"),
        (timedelta(minutes=1), "step scan_logs"),
        (timedelta(minutes=6), "step rerun"),
        (timedelta(minutes=7), "awaiting_approval"),
        (timedelta(minutes=7), "approval requested"),
        (timedelta(minutes=8), "notified C"),
        (timedelta(minutes=9), "answer approve"),
        (timedelta(minutes=10), "answer approve"),
        (timedelta(minutes=10), "approved"),
        (timedelta(minutes=11), "portal receipt"),
        (timedelta(minutes=11), "published"),
    ]
    details = [line.detail for line in story]
    assert details[0] == (
        "aggregate_profit partition 2026-01: etl_failure (event ev-1); runbook "
        "aggregate-profit; flow run run-1"
    )
    assert details[3] == "Completed: rows=120"
    assert details[5] == "paused-1 of flow run run-1: 1 of C, D; escalate at 2026-01-21 10:37Z"
    assert details[7] == "E (refused: not authorized)"
    assert details[8] == 'C (accepted) "looks right"'
    assert details[9] == "by C"
    assert details[10] == "report aggregate_profit/2026-01 v2 receipt rcpt-9 sha256 abababababab"
    assert ledger.incidents.current_state(incident) == "published"


def test_unknown_incident_and_naive_times_are_refused(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="no incident 999"):
        ledger.incidents.get(999)
    with pytest.raises(sa.exc.StatementError, match="timezone-aware"):
        ledger.incidents.open("aggregate_profit", "etl_failure", datetime(2026, 1, 1))


def test_opening_the_ledger_again_sees_its_rows(ledger: Ledger) -> None:
    incident = _open(ledger)
    again = Ledger(ledger.engine)  # the engine already carries the schema, if any
    assert again.schema == ledger.schema
    assert again.incidents.get(incident).event_id == "ev-1"


def test_a_recovery_runs_incident_and_gate_pauses_are_found_by_its_flow_run(
    tmp_path: Path,
) -> None:
    ledger = migrated_ledger(f"sqlite:///{tmp_path / 'audit.db'}")
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    incident = ledger.incidents.open(
        "aggregate_profit", "source_outage", opened, flow_run_id="run-1"
    )
    first = ledger.approvals.record_request(incident.id, "run-1", "approve-1", ["A", "B"])
    second = ledger.approvals.record_request(incident.id, "run-1", "approve-2", ["A", "B"])
    ledger.approvals.record_request(incident.id, "run-2", "approve-1", ["A"])
    assert ledger.incidents.of_run("run-1") == incident
    assert ledger.incidents.of_run("run-9") is None
    assert [r.id for r in ledger.approvals.requests_of_run("run-1")] == [first.id, second.id]
