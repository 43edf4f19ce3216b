"""Escalation of an unanswered approval, end to end on a real Prefect server.

The gate notifies the on-call primary itself, then leaves escalation to the server: an
automation with a proactive trigger on the paused run. Nobody answers within `escalate_after`,
so the Prefect server (not the flow's process) POSTs to the backup's and the owners' webhooks,
here a real HTTP receiver on a loopback port. Once an authorized engineer answers, the gate
deletes the automation; a gate answered in time escalates to nobody.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from prefect.client.orchestration import get_client

from deployments.local_server import LocalServer
from governance.models import GovernanceConfig
from governance.responders import notify_targets
from tests.e2e.conftest import ENGINEERS, GatedRun, Webhook, run_async, start_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ESCALATE_AFTER = 10  # seconds: Prefect's floor for a proactive trigger
GATE = f"approvers: [A, B], escalate_after: {ESCALATE_AFTER}s, poll_interval: 1"


@pytest.fixture(scope="module")
def server(governance: GovernanceConfig) -> Iterator[LocalServer]:
    yield from start_server("runbook_e2e_escalation", ui=False)


def posts_about(webhook: Webhook, engineer: str, run: GatedRun, reason: str) -> list[dict]:
    """What this engineer's webhook received about this run for this reason."""
    return [
        body
        for body in webhook.bodies(engineer)
        if body.get("reason") == reason and run.flow_run_id in str(body.get("text"))
    ]


def automations_of(run: GatedRun) -> list:
    async def read() -> list:
        async with get_client() as client:
            return await client.read_automations_by_name(f"escalate-approval-{run.flow_run_id}")

    return run_async(read())


@pytest.mark.timeout(240)
def test_an_unanswered_gate_escalates_to_the_backup_and_the_owners_from_the_server(
    server: LocalServer,
    governance: GovernanceConfig,
    webhook: Webhook,
    start_gated: Callable[..., GatedRun],
) -> None:
    targets = notify_targets(governance, "aggregate_profit", datetime.now(UTC))
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
    # nobody answers: the server's automation tells the backup and both owners
    webhook.wait_for(
        lambda: all(posts_about(webhook, e, run, "escalation") for e in targets.escalation),
        60,
        f"escalation to {', '.join(targets.escalation)}",
    )
    waited = time.monotonic() - paused_at
    assert waited >= ESCALATE_AFTER - 1, f"escalated after {waited:.1f} s"
    escalation = posts_about(webhook, targets.escalation[0], run, "escalation")[0]
    assert escalation["subject"] == "Escalation: aggregate_profit approval unanswered"
    assert f"/runs/flow-run/{run.flow_run_id}" in escalation["text"]
    assert escalation["engineer"] == targets.escalation[0]
    bystanders = set(ENGINEERS) - set(targets.escalation)
    assert not any(posts_about(webhook, e, run, "escalation") for e in bystanders)
    assert not run.target.exists()  # escalating approves nothing

    verdict = run.answer("A", comment="seen the escalation; counts match")
    assert verdict is not None and verdict.accepted
    state = run.final_state()
    assert state.is_completed() and run.target.exists()
    assert automations_of(run) == []  # the gate disarmed its escalation
    # one notification per target: the trigger fired once
    assert all(len(posts_about(webhook, e, run, "escalation")) == 1 for e in targets.escalation)


@pytest.mark.timeout(240)
def test_a_gate_answered_before_escalate_after_escalates_to_nobody(
    server: LocalServer, webhook: Webhook, start_gated: Callable[..., GatedRun]
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
