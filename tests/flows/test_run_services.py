"""Runs and commands get their services from one factory; the recorder tells the gate's part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.approval.gate import on_call_gate
from flows.runtime.run_services import open_command_services, open_services
from foundation.settings import temporary_settings
from governance.config import load_governance
from recovery_tasks.services import no_gate
from tests.conftest import migrated_audit_url

EVENT = {"event": "pipeline.failed", "payload": {"kind": "data_quality", "partition": "2026-10"}}


def test_a_run_gets_the_gate_and_a_recorder_a_command_gets_neither(
    tmp_path: Path, audit_url: str
) -> None:
    with temporary_settings(audit_url=audit_url):
        with open_services() as run:
            assert run.gate is on_call_gate and run.recorder.keeps_story
        with open_command_services() as command:
            assert command.gate is no_gate and not command.recorder.keeps_story
            assert command.ledger.engine.url.database == str(tmp_path / "audit.db")


def test_command_options_override_the_ledger_and_the_governance_file(tmp_path: Path) -> None:
    config = load_governance()
    url = migrated_audit_url(tmp_path / "other.db")
    with open_command_services(audit_url=url, governance=config) as services:
        assert services.governance is config
        assert services.ledger.engine.url.database == str(tmp_path / "other.db")


def test_leaving_the_services_disposes_their_engines(audit_url: str) -> None:
    with open_command_services(audit_url=audit_url) as services:
        services.ledger.incidents.open("aggregate_profit", "manual", datetime.now(UTC))
        pool = services.ledger.engine.pool
        assert pool.checkedin() == 1  # type: ignore[attr-defined]
    assert pool.checkedin() == 0  # type: ignore[attr-defined]


def test_the_recorder_tells_a_gates_pause_its_answers_and_who_was_notified(
    audit_url: str,
) -> None:
    with temporary_settings(audit_url=audit_url), open_services() as run:
        story = run.story()
        incident = story.open("aggregate-profit", "aggregate_profit", EVENT, {}, "run-1")
        now = datetime.now(UTC)
        request = story.approval_requested(
            "approve-1",
            ["A", "B"],
            min_approvals=1,
            escalate_at=now + timedelta(minutes=30),
            timeout_at=now + timedelta(hours=2),
            step_id="approve",
        )
        assert request is not None
        story.answer(request, "C", "approve", refusal="'C' may not answer this gate")
        story.answer(request, "A", "approve", refusal=None, comment="counts match")
        run.notifier().notify("B", "approval_requested", "waits for you", incident_id=None)
        ledger = run.ledger
        answers = [(a.who, a.authorized, a.reason) for a in ledger.approvals.answers(request.id)]
        assert answers == [("C", False, "'C' may not answer this gate"), ("A", True, None)]
        [notice] = ledger.notifications.of_incident(incident.id)  # bound to the run's incident
        assert (notice.recipient, notice.delivered) == ("B", False)


def test_without_an_incident_the_gate_records_no_pause(audit_url: str) -> None:
    with open_command_services(audit_url=audit_url) as services:
        story = services.story()
        assert story.incident_id is None
        request = story.approval_requested(
            "approve-1", ["A"], min_approvals=1, escalate_at=None, timeout_at=None, step_id="a"
        )
        assert request is None
        story.answer(request, "A", "approve", refusal=None)  # nothing to answer to: no-op
