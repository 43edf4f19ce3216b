"""Escalation that does not depend on the flow's process: a Prefect automation.

When a gate opens, an automation with a proactive trigger is created on the server: "after
this flow run is Paused or Suspended, expect it to leave that state (resume, fail, cancel)
within `escalate_after`; if it does not, send a notification to the backup and the owners".
The server evaluates it, so escalation happens while the run is suspended (no process at all)
or its process is busy or gone. The automation is named after the flow run, so a gate that
comes back in a new process (after a suspension or a crash) finds and removes it by name.
Each engineer with a webhook gets a notification block (created or refreshed by name).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from uuid import UUID

from prefect.automations import Automation
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import get_client
from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.exceptions import ObjectNotFound

from governance.models import GovernanceConfig

WAITING = {"prefect.flow-run.Paused", "prefect.flow-run.Suspended"}
LEFT_PAUSED = {
    "prefect.flow-run.Resuming",
    "prefect.flow-run.Running",
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.Cancelled",
    "prefect.flow-run.Crashed",
}
MINIMUM = timedelta(seconds=10)  # Prefect's floor for proactive triggers


async def engineer_block_id(config: GovernanceConfig, engineer: str) -> UUID | None:
    """The notification block posting to this engineer's webhook (None without one)."""
    contact = config.engineers.get(engineer)
    if contact is None or contact.webhook is None:
        return None
    block = CustomWebhookNotificationBlock(
        name=f"runbook-{engineer.lower()}",
        url=str(contact.webhook),
        method="POST",
        json_data={
            "engineer": engineer,
            "reason": "escalation",
            "subject": "{{subject}}",
            "text": "{{body}}",
        },
    )
    return await block.save(f"runbook-notify-{_slug(engineer)}", overwrite=True)


async def arm_escalation(
    config: GovernanceConfig,
    flow_run_id: str,
    targets: list[str],
    after: timedelta,
    subject: str,
    body: str,
) -> UUID | None:
    """Create the automation; return its id (None when no target can be reached by webhook)."""
    actions = []
    for engineer in targets:
        block_id = await engineer_block_id(config, engineer)
        if block_id is not None:
            actions.append(SendNotification(block_document_id=block_id, subject=subject, body=body))
    if not actions:
        return None
    automation = Automation(
        name=automation_name(flow_run_id),
        description="Notify the backup and the owners when an approval goes unanswered",
        trigger=EventTrigger(
            posture=Posture.Proactive,
            match={"prefect.resource.id": f"prefect.flow-run.{flow_run_id}"},
            after=WAITING,
            expect=LEFT_PAUSED,
            within=max(after, MINIMUM),
            threshold=1,
        ),
        actions=actions,
    )
    created = await automation.acreate()
    return created.id


async def disarm_escalation(flow_run_id: str) -> None:
    """Delete the run's escalation once the gate has its answer (or gave up)."""
    async with get_client() as client:
        for automation in await client.read_automations_by_name(automation_name(flow_run_id)):
            with contextlib.suppress(ObjectNotFound):  # already gone: nothing to disarm
                await client.delete_automation(automation.id)


def automation_name(flow_run_id: str) -> str:
    """The escalation automation's name: one per flow run."""
    return f"escalate-approval-{flow_run_id}"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())
