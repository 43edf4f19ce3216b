"""What happens once when a gate first opens: the people are told and escalation is armed.

The first responders get the request; every engineer who may answer gets their own approval
code privately (`flows.approval.identity`); the incident waits for approval; the escalation
automation is armed on the server. A gate that comes back after a suspension or a crash finds
its history in the ledger and does none of this again.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import get_run_logger

from flows.approval.blocking import off_loop
from flows.approval.escalation import arm_escalation
from flows.approval.identity import GateIdentity
from governance.ledger.records import IncidentState
from governance.oncall.responders import NotifyTargets
from recovery_tasks.context import StepContext
from recovery_tasks.services import RunServices


async def announce_gate(
    ctx: StepContext,
    services: RunServices,
    identity: GateIdentity,
    *,
    pipeline: str,
    authorized: tuple[str, ...],
    targets: NotifyTargets,
    escalate_after: timedelta,
) -> None:
    """Tell the first responders, send each approver their code, arm the escalation."""
    story, notifier = services.story(), services.notifier()
    incident_id = ctx.incident.get("id")
    ui_url = services.ui_url
    run_link = f"{ui_url}/runs/flow-run/{ctx.flow_run_id}" if ui_url else str(ctx.flow_run_id)
    await off_loop(story.state, IncidentState.AWAITING_APPROVAL, detail={"step": ctx.step_id})
    await off_loop(
        notifier.notify_all,
        targets.first,
        "approval_requested",
        f"{pipeline}: recovery of incident {incident_id} waits for your approval: {run_link}",
        incident_id=incident_id,
    )
    codes = await off_loop(
        identity.send_codes,
        notifier,
        authorized,
        pipeline=pipeline,
        incident_id=incident_id,
        link=run_link if ui_url else None,
        page_url=services.settings.approval.approval_page_url,
    )
    if identity.required and not any(n.delivered for n in codes):
        get_run_logger().warning(
            "no approver's code reached them (see `runbook audit`): nobody can open this gate "
            "until a contact in governance.yaml works or the escalation reaches someone"
        )
    await arm_escalation(
        services.governance,
        str(ctx.flow_run_id),
        list(targets.escalation),
        escalate_after,
        subject=f"Escalation: {pipeline} approval unanswered",
        body=f"Nobody has answered the approval of {pipeline} (incident {incident_id}) "
        f"for {escalate_after}. Please review: {run_link}",
    )
