"""Escalation that does not depend on the flow's process, and that goes on the record.

When a gate opens, a Prefect automation with a proactive trigger is created on the server:
"after this flow run is Paused (or Suspended), expect it to leave that state within
`escalate_after`; if it does not, run the `escalate-approval/escalate` deployment". The server
evaluates it, so escalation happens even if the flow's process is busy or gone; the deployment
is served by `runbook serve` (a run created while nothing serves it starts when serving
resumes). The automation is named after the flow run, so arming twice makes one and a gate
that comes back in a new process (after a suspension or a crash) finds and removes it by name.
The escalation flow writes `escalated` into the incident's story and sends the
escalation message, and to each escalation target who may answer their approval code
(`flows.approval.identity`), through the one notification path (Apprise, every attempt recorded), so
`runbook audit` shows who was told and whether it reached them.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.events.actions import RunDeployment
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.exceptions import MissingContextError, ObjectNotFound

from flows.approval.identity import GateIdentity
from governance.approval_codes import CodeScope
from governance.ledger.records import IncidentState, Notification
from governance.models import GovernanceConfig
from governance.notification import messages
from recovery_tasks.services import RunServices

ESCALATE_FLOW = "escalate-approval"
ESCALATE_DEPLOYMENT = "escalate"
WAITING = {"prefect.flow-run.Paused", "prefect.flow-run.Suspended"}
LEFT_WAITING = {
    "prefect.flow-run.Resuming",
    "prefect.flow-run.Scheduled",  # a suspended run, resumed, is rescheduled
    "prefect.flow-run.Pending",
    "prefect.flow-run.Running",
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.Cancelled",
    "prefect.flow-run.Crashed",
}
MINIMUM = timedelta(seconds=10)  # Prefect's floor for proactive triggers


def automation_name(flow_run_id: str) -> str:
    """The escalation automation's name: one per flow run."""
    return f"escalate-approval-{flow_run_id}"


async def arm_escalation(
    config: GovernanceConfig,
    flow_run_id: str,
    targets: list[str],
    after: timedelta,
    subject: str | None = None,
    body: str | None = None,
) -> UUID | None:
    """Create the automation (once per flow run); return its id, None when nothing is armed.

    The escalation message is built from the ledger when it fires (`messages.escalation`), so
    `subject` and `body` are not used; `config` is kept for callers that pass it.
    """
    if not targets:
        return None
    async with get_client() as client:
        existing = await client.read_automations_by_name(automation_name(flow_run_id))
        if existing:  # the gate opened again in this run (a resumed suspension)
            return existing[0].id
        try:
            deployment = await client.read_deployment_by_name(
                f"{ESCALATE_FLOW}/{ESCALATE_DEPLOYMENT}"
            )
        except ObjectNotFound:
            _logger().warning(
                "escalation not armed: this Prefect server has no %s/%s deployment; "
                "`runbook serve` serves it",
                ESCALATE_FLOW,
                ESCALATE_DEPLOYMENT,
            )
            return None
        automation = AutomationCore(
            name=automation_name(flow_run_id),
            description="Escalate to the backup and the owners when an approval goes unanswered",
            trigger=EventTrigger(
                posture=Posture.Proactive,
                match={"prefect.resource.id": f"prefect.flow-run.{flow_run_id}"},
                after=WAITING,
                expect=LEFT_WAITING,
                within=max(after, MINIMUM),
                threshold=1,
            ),
            actions=[
                RunDeployment(
                    source="selected",
                    deployment_id=deployment.id,
                    parameters={
                        "flow_run_id": flow_run_id,
                        "targets": list(targets),
                        "unanswered_for_seconds": after.total_seconds(),
                    },
                )
            ],
        )
        return await client.create_automation(automation)


async def disarm_escalation(automation: UUID | str | None) -> None:
    """Delete the escalation once the gate has its answer (or gave up).

    Takes the automation's id (what `arm_escalation` returned) or the flow run's id (a gate
    that came back in a new process finds its automation by name).
    """
    if automation is None:
        return
    async with get_client() as client:
        if isinstance(automation, UUID):
            ids = [automation]
        else:
            ids = [a.id for a in await client.read_automations_by_name(automation_name(automation))]
        for automation_id in ids:
            with contextlib.suppress(ObjectNotFound):  # already gone: nothing to disarm
                await client.delete_automation(automation_id)


@dataclass(frozen=True)
class Escalation:
    """What one escalation did: the incident, the attempts, or why nothing was sent."""

    incident_id: int | None
    sent: list[Notification] = field(default_factory=list)
    skipped: str | None = None


def escalate(
    services: RunServices,
    flow_run_id: str,
    targets: list[str],
    unanswered_for: timedelta,
    ui_url: str | None = None,
) -> Escalation:
    """Record `escalated` on the run's incident and tell `targets`, unless the gate has since
    been answered (the automation may fire just as an answer arrives)."""
    ledger = services.ledger
    incident = ledger.incidents.of_run(flow_run_id)
    if incident is None:
        return Escalation(None, skipped=f"flow run {flow_run_id} has no incident in the ledger")
    state = ledger.incidents.current_state(incident.id)
    if state != IncidentState.AWAITING_APPROVAL:
        return Escalation(incident.id, skipped=f"the gate no longer waits (incident is {state})")
    services.story().of(incident.id).escalated(targets, unanswered_for, flow_run_id)
    link = f"{ui_url}/runs/flow-run/{flow_run_id}" if ui_url else None
    message = messages.escalation(
        incident.pipeline, incident.id, unanswered_for, link, flow_run_id=flow_run_id
    )
    notifier = services.notifier()
    sent = notifier.send(message, targets)
    requests = ledger.approvals.requests_of_run(flow_run_id)
    first = requests[0] if requests else None
    if first is not None and first.step_id and first.timeout_at:
        scope = CodeScope(flow_run_id, first.step_id, first.timeout_at)
        identity = GateIdentity.of(services.settings.approval, scope)
        may_answer = [t for t in targets if t in first.approvers]
        sent += identity.send_codes(
            notifier,
            may_answer,
            pipeline=incident.pipeline,
            incident_id=incident.id,
            link=link,
            page_url=services.settings.approval.approval_page_url,
        )
    return Escalation(incident.id, sent)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)
