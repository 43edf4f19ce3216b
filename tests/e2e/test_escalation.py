"""Escalation of an unanswered approval, end to end on a real Prefect server, on the record.

The gate notifies the on-call primary itself, then leaves escalation to the server: an
automation with a proactive trigger on the paused run. Nobody answers within `escalate_after`,
so the server runs the `escalate-approval/escalate` deployment, served here by `runbook serve`
in its own process (not the flow's): it writes `escalated` into the incident's story and
notifies the backup and the owners through Apprise (`json://` URLs on a real HTTP receiver),
each attempt recorded, so `runbook audit` shows the escalation with its delivery outcome. Once
an authorized engineer answers, the gate deletes the automation; a gate answered in time
escalates to nobody.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from typer.testing import CliRunner

from flows.runtime.run_services import open_command_services
from foundation.settings import PROJECT_ROOT, get_settings, temporary_settings
from governance.models import GovernanceConfig
from governance.oncall.responders import notify_targets
from runbook_cli.main import app
from testing.prefect_server import LocalServer, free_port
from testing.served import stop
from tests.e2e.conftest import ENGINEERS, GatedRun, Webhook, run_async, start_server

pytestmark = [pytest.mark.postgres]

ESCALATE_AFTER = 10  # seconds: Prefect's floor for a proactive trigger
GATE = f"approvers: [A, B], escalate_after: {ESCALATE_AFTER}s, poll_interval: 1"

SECRET = "escalation-test-secret"
SERVED = ("escalate-approval/escalate", "incident-report/weekly")
"""The deployments these tests use, served by `runbook serve` beside the runbooks'."""


@pytest.fixture(scope="module")
def server(governance: GovernanceConfig) -> Iterator[LocalServer]:
    yield from start_server("runbook_e2e_escalation", ui=False)


@pytest.fixture(scope="module")
def page_url() -> str:
    """Where `runbook serve` serves the approval page (RUNBOOK_APPROVAL_PAGE_URL)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def serving(
    server: LocalServer,
    governance: GovernanceConfig,
    page_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[subprocess.Popen]:
    """`runbook serve` in its own process: no runbooks, the SLA watch, the escalations, the
    weekly report and the approval page, on this test's governance file and audit ledger."""
    folder = tmp_path_factory.mktemp("serve")
    (folder / "runbooks").mkdir()
    env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "RUNBOOK_RUNBOOKS_DIR": str(folder / "runbooks"),
        "RUNBOOK_GOVERNANCE_FILE": str(get_settings().governance.governance_file),
        "RUNBOOK_AUDIT_URL": get_settings().audit_url(),
        "PYTHONPATH": str(PROJECT_ROOT),
        "RUNBOOK_APPROVAL_SECRET": SECRET,  # the escalation signs the codes it sends
        "RUNBOOK_APPROVAL_PAGE_URL": page_url,  # ... as links to the page serve serves
    }
    with (folder / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "runbook_cli", "serve", "--poll", "1"],
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        for name in SERVED:  # serve registers its deployments one after another
            while run_async(_deployment(name)) is None:
                assert process.poll() is None, (folder / "serve.log").read_text()[-3000:]
                assert time.monotonic() < deadline, f"runbook serve never served {name}"
                time.sleep(0.5)
        yield process
    finally:
        stop(process)


async def _deployment(name: str) -> Any:
    async with get_client() as client:
        try:
            return await client.read_deployment_by_name(name)
        except ObjectNotFound:
            return None


def posts_about(webhook: Webhook, engineer: str, run: GatedRun, reason: str) -> list[dict]:
    """What this engineer's webhook received about this run for this reason."""
    return [
        body
        for body in webhook.bodies(engineer)
        if body.get("reason") == reason
        and (
            body.get("flow_run_id") == run.flow_run_id or run.flow_run_id in body.get("message", "")
        )
    ]


def automations_of(run: GatedRun) -> list:
    async def read() -> list:
        async with get_client() as client:
            return await client.read_automations_by_name(f"escalate-approval-{run.flow_run_id}")

    return run_async(read())


def escalations_on_record(run: GatedRun) -> tuple[int, list[Any], list[Any]]:
    """The run's incident, its `escalated` markers and its escalation notifications."""
    with open_command_services() as services:
        incident = services.ledger.incidents.of_run(run.flow_run_id)
        assert incident is not None
        marks = [e for e in services.ledger.incidents.events(incident.id) if e.state == "escalated"]
        sent = [
            n
            for n in services.ledger.notifications.of_incident(incident.id)
            if n.reason == "escalation"
        ]
    return incident.id, marks, sent


@pytest.mark.timeout(300)
def test_an_unanswered_gate_escalates_on_the_record_from_a_served_deployment(
    serving: subprocess.Popen,
    governance: GovernanceConfig,
    webhook: Webhook,
    start_gated: Any,
) -> None:
    targets = notify_targets(governance, "aggregate_profit", datetime.now(UTC))
    weekly = run_async(_deployment("incident-report/weekly"))
    assert weekly is not None and weekly.schedules  # served beside it, on its weekly schedule
    run = start_gated(gate=GATE, timeout="10m")
    paused_at = time.monotonic()
    run.wait_paused("approve-1")
    (primary,) = targets.first
    # the gate itself tells the primary, with a link to the run
    webhook.wait_for(
        lambda: bool(posts_about(webhook, primary, run, "approval_requested")),
        10,
        f"approval_requested to {primary}",
    )
    assert len(automations_of(run)) == 1  # armed while the gate waits
    # nobody answers: the server runs the served escalation, which tells the backup and owners
    webhook.wait_for(
        lambda: all(posts_about(webhook, e, run, "escalation") for e in targets.escalation),
        90,
        f"escalation to {', '.join(targets.escalation)}",
    )
    waited = time.monotonic() - paused_at
    assert waited >= ESCALATE_AFTER - 1, f"escalated after {waited:.1f} s"
    escalation = posts_about(webhook, targets.escalation[0], run, "escalation")[0]
    assert escalation["title"] == "[runbook] Escalation: aggregate_profit approval unanswered"
    assert escalation["link"].endswith(f"/runs/flow-run/{run.flow_run_id}")
    assert escalation["type"] == "warning"
    bystanders = set(ENGINEERS) - set(targets.escalation)
    assert not any(posts_about(webhook, e, run, "escalation") for e in bystanders)
    assert not run.target.exists()  # escalating approves nothing

    incident, marks, sent = escalations_on_record(run)
    [mark] = marks
    assert mark.detail["to"] == list(targets.escalation)
    assert [(n.recipient, n.channel, n.delivered) for n in sent] == [
        (e, "json", True) for e in targets.escalation
    ]
    audit = CliRunner().invoke(app, ["audit", str(incident)])
    assert audit.exit_code == 0, audit.output
    assert any(" escalated " in line for line in audit.output.splitlines())
    for engineer in targets.escalation:
        assert any(
            f"notified {engineer}" in line and "json (escalation): delivered" in line
            for line in audit.output.splitlines()
        ), audit.output

    verdict = run.answer("A", comment="seen the escalation; counts match")
    assert verdict is not None and verdict.accepted
    state = run.final_state()
    assert state.is_completed() and run.target.exists()
    assert automations_of(run) == []  # the gate disarmed its escalation
    # one notification per target: the trigger fired once
    assert all(len(posts_about(webhook, e, run, "escalation")) == 1 for e in targets.escalation)


@pytest.mark.timeout(240)
def test_a_gate_answered_before_escalate_after_escalates_to_nobody(
    serving: subprocess.Popen, webhook: Webhook, start_gated: Any
) -> None:
    run = start_gated(gate=GATE, timeout="10m")
    run.wait_paused("approve-1")
    paused_at = time.monotonic()
    verdict = run.answer("B", comment="on it at once")
    assert verdict is not None and verdict.accepted
    assert run.final_state().is_completed() and run.target.exists()
    assert automations_of(run) == []
    # well past escalate_after plus the server's evaluation period: still nothing
    time.sleep(max(0.0, ESCALATE_AFTER + 10 - (time.monotonic() - paused_at)))
    assert not any(posts_about(webhook, e, run, "escalation") for e in ENGINEERS)
    _, marks, sent = escalations_on_record(run)
    assert marks == [] and sent == []


@pytest.mark.timeout(300)
def test_the_escalation_sends_each_target_who_may_answer_their_own_code(
    serving: subprocess.Popen,
    governance: GovernanceConfig,
    webhook: Webhook,
    start_gated: Any,
    page_url: str,
) -> None:
    settings = {"profile": "production", "approval_secret": SECRET, "approval_page_url": page_url}
    with temporary_settings(**settings):
        targets = notify_targets(governance, "aggregate_profit", datetime.now(UTC))
        may_answer = [e for e in targets.escalation if e in ("A", "B")]  # the gate's approvers
        run = start_gated(gate=GATE, timeout="10m")
        run.wait_paused("approve-1")

        def codes(engineer: str) -> list[str]:
            return [
                p["approval_code"] for p in posts_about(webhook, engineer, run, "approval_code")
            ]

        # each approver's code when the gate opened, and again with the escalation
        webhook.wait_for(
            lambda: all(len(codes(e)) == 2 for e in may_answer), 90, "codes with the escalation"
        )
        assert not any(codes(e) for e in set(ENGINEERS) - {"A", "B"})  # only who may answer
        backup = may_answer[0]
        refused = run.answer(backup, comment="typed name only")
        assert refused is not None and "unverified" in refused.detail
        run.wait_paused("approve-2")  # the refusal is recorded a moment before the run re-pauses
        # the escalation's link opens the approval page `runbook serve` serves, which answers
        [link] = [p["approval_link"] for p in posts_about(webhook, backup, run, "approval_code")][
            -1:
        ]
        assert link.startswith(f"{page_url}/answer/{run.flow_run_id}?code={backup}.")
        shown = httpx.get(link, timeout=30)
        assert shown.status_code == 200 and "Who may answer" in shown.text, shown.text
        answered = httpx.post(
            f"{page_url}/answer/{run.flow_run_id}",
            data={"approver": backup, "decision": "approve", "code": codes(backup)[-1]},
            timeout=90,
        )
        assert answered.status_code == 200, answered.text
        assert f"approve by {backup} recorded" in answered.text
        assert run.final_state().is_completed() and run.target.exists()
