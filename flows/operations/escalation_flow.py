"""The escalation flow: what the escalation automation runs (served by `runbook serve`).

Its own module, apart from `flows.approval.escalation` (which the gate imports to arm the
automation): the flow opens the command services, and those import the gate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
from prefect import flow, get_run_logger
from prefect.settings import PREFECT_UI_URL

from flows.approval.escalation import ESCALATE_FLOW, Escalation, escalate
from flows.runtime.run_services import open_command_services


def _escalate_with_command_services(
    flow_run_id: str, targets: list[str], unanswered_for: timedelta, ui_url: str | None
) -> Escalation:
    with open_command_services() as services:
        return escalate(services, flow_run_id, targets, unanswered_for, ui_url)


@flow(name=ESCALATE_FLOW, log_prints=True, persist_result=False)
async def escalate_approval(
    flow_run_id: str, targets: list[str], unanswered_for_seconds: float
) -> dict[str, Any]:
    """Run by the escalation automation: tell the backup and the owners, on the record."""
    unanswered_for = timedelta(seconds=unanswered_for_seconds)
    done = await anyio.to_thread.run_sync(
        _escalate_with_command_services,
        flow_run_id,
        targets,
        unanswered_for,
        PREFECT_UI_URL.value(),
    )
    logger = get_run_logger()
    if done.skipped:
        logger.info("not escalated: %s", done.skipped)
    else:
        delivered = sum(n.delivered for n in done.sent)
        logger.info(
            "incident %s escalated to %s: %d of %d notifications delivered",
            done.incident_id,
            ", ".join(targets),
            delivered,
            len(done.sent),
        )
    return {
        "incident_id": done.incident_id,
        "skipped": done.skipped,
        "delivered": [f"{n.recipient} ({n.channel})" for n in done.sent if n.delivered],
        "undelivered": [
            f"{n.recipient} ({n.channel}): {n.detail}" for n in done.sent if not n.delivered
        ],
    }
