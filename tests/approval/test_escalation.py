"""Escalation on the record: the automation runs the escalate deployment, which writes
`escalated` into the incident's story and notifies through Apprise, each attempt recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.events.actions import RunDeployment
from typer.testing import CliRunner

from deployments.application import RecoveryApplication
from flows.approval.escalation import (
    arm_escalation,
    automation_name,
    disarm_escalation,
    escalate,
)
from flows.runtime.run_services import open_command_services
from governance.incidents.recorder import IncidentRecorder
from governance.ledger.records import IncidentState
from recovery_tasks.services import RunServices
from runbook_cli.main import app
from tests.governance.conftest import Webhook, make_config, migrated_ledger
from tests.governance.conftest import webhook as webhook  # the fixture

EVENT = {"event": "pipeline.failed", "payload": {"kind": "data_quality", "partition": "2026-10"}}


@pytest.fixture
def audit_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    migrated_ledger(url).dispose()
    return url


@pytest.fixture
def services(webhook: Webhook, audit_url: str) -> Iterator[RunServices]:
    """Command services whose governance sends A, B and C to the webhook (json://)."""
    hook = webhook.url.replace("http://", "json://")
    replace = {f"{e}: {{email: {e.lower()}@example.com}}": f"{e}: {{notify: ['{hook}/{e}']}}"
               for e in "ABC"}  # fmt: skip
    with open_command_services(audit_url=audit_url, governance=make_config(replace=replace)) as s:
        yield s


def waiting_incident(services: RunServices, flow_run_id: str = "run-1") -> int:
    story = IncidentRecorder(services.ledger, services.governance)  # as the run's own
    incident = story.open("aggregate-profit", "aggregate_profit", EVENT, {}, flow_run_id)
    story.state(IncidentState.AWAITING_APPROVAL, detail={"step": "approve"})
    return incident.id


def test_an_escalation_is_recorded_and_each_attempt_with_its_outcome(
    services: RunServices, webhook: Webhook, audit_url: str
) -> None:
    incident = waiting_incident(services)
    done = escalate(services, "run-1", ["A", "B"], timedelta(minutes=30), "http://ui")
    assert done.skipped is None and done.incident_id == incident
    assert [(n.recipient, n.channel, n.delivered) for n in done.sent] == [
        ("A", "json", True), ("B", "json", True),
    ]  # fmt: skip
    [marker] = [e for e in services.ledger.incidents.events(incident) if e.state == "escalated"]
    assert marker.detail == {"to": ["A", "B"], "unanswered_for": "30m", "flow_run_id": "run-1"}
    bodies = {post["path"]: post["body"] for post in webhook.received}
    assert set(bodies) == {"/hook/A", "/hook/B"}
    assert (
        bodies["/hook/B"]["title"] == "[runbook] Escalation: aggregate_profit approval unanswered"
    )
    assert bodies["/hook/B"]["link"] == "http://ui/runs/flow-run/run-1"
    assert bodies["/hook/B"]["flow_run_id"] == "run-1"

    audit = CliRunner().invoke(app, ["audit", str(incident), "--db", audit_url])
    assert audit.exit_code == 0, audit.output
    lines = audit.output.splitlines()
    assert any(" escalated " in line and "to=['A', 'B'], unanswered_for=30m" in line
               for line in lines)  # fmt: skip
    assert any("notified B" in line and "json (escalation): delivered" in line for line in lines)


def test_a_gate_answered_meanwhile_is_not_escalated(
    services: RunServices, webhook: Webhook
) -> None:
    incident = waiting_incident(services)
    services.story().of(incident).state(IncidentState.APPROVED, actor="A")
    done = escalate(services, "run-1", ["A", "B"], timedelta(minutes=30))
    assert done.skipped == "the gate no longer waits (incident is approved)"
    assert webhook.received == []
    assert all(e.state != "escalated" for e in services.ledger.incidents.events(incident))
    assert escalate(services, "run-x", ["A"], timedelta(minutes=1)).incident_id is None


@pytest.mark.prefect
def test_the_automation_runs_the_escalate_deployment_and_is_disarmed(
    prefect_server: None,
) -> None:
    config = make_config()
    after = timedelta(minutes=30)
    assert asyncio.run(arm_escalation(config, "run-none", ["B"], after)) is None  # not served
    deployment_id = (
        RecoveryApplication.load()
        .deployment("escalate-approval/escalate")
        .runner_deployment()
        .apply()
    )
    automation_id = asyncio.run(arm_escalation(config, "run-7", ["B", "A"], after))
    assert automation_id is not None
    again = asyncio.run(arm_escalation(config, "run-7", ["B", "A"], after))
    assert again == automation_id  # one automation per flow run

    async def read() -> list:
        async with get_client() as client:
            return await client.read_automations_by_name(automation_name("run-7"))

    [automation] = asyncio.run(read())
    [action] = automation.actions
    assert isinstance(action, RunDeployment) and action.deployment_id == deployment_id
    assert action.parameters == {
        "flow_run_id": "run-7",
        "targets": ["B", "A"],
        "unanswered_for_seconds": 1800.0,
    }
    trigger = automation.trigger
    assert trigger.within == after  # type: ignore[union-attr]
    assert trigger.match.get("prefect.resource.id") == ["prefect.flow-run.run-7"]  # type: ignore[union-attr]
    assert "prefect.flow-run.Suspended" in trigger.after  # type: ignore[union-attr]
    asyncio.run(disarm_escalation(automation_id))
    assert asyncio.run(read()) == []
    asyncio.run(arm_escalation(config, "run-7", ["B"], after))
    asyncio.run(disarm_escalation("run-7"))  # by the flow run, as a gate in a new process does
    assert asyncio.run(read()) == []
