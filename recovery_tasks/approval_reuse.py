"""An approval given earlier in the same incident, for exactly the same bytes.

When an approved publication failed (the portal was down) and the incident is retried
(`runbook retry`), the reports are built again from the same partition; asking again adds
nothing but delay when every byte is the same. An approval step records what its approver
saw: the sha256 of every report and dashboard feed built before it in its run (`seen_bytes`),
and the publish steps after it are pinned to those digests (`flows.language.pinning`). The
earlier approval counts only if that record equals, digest for digest, what this run built,
and the ledger shows each of its approvers giving an authorized `approve` answer to that
run's gate. An unchanged report with a new feed, or a second report that changed: ask again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from recovery_tasks.context import StepContext

if TYPE_CHECKING:
    from governance.ledger.audit_ledger import Ledger

DIGESTS = ("sha256", "feed_sha256")  # the outputs that identify published bytes


@dataclass(frozen=True)
class EarlierApproval:
    """Who approved these bytes, in which run of the incident, and when."""

    approvers: list[str]
    flow_run_id: str
    approved_at: datetime | None


def seen_bytes(ctx: StepContext) -> dict[str, str]:
    """Every report and feed digest this run has built so far: `step.output` -> sha256."""
    return {
        f"{step_id}.{name}": outcome.outputs[name]
        for step_id, outcome in sorted(ctx.steps.items())
        if outcome.state == "completed" and outcome.outputs
        for name in DIGESTS
        if isinstance(outcome.outputs.get(name), str)
    }


def earlier_approval(
    ledger: Ledger, incident_id: int, saw: Mapping[str, str], current_run: str | None
) -> EarlierApproval | None:
    """The latest fully recorded approval, in another run, of exactly the bytes `saw`."""
    if not saw:
        return None  # an approval of no bytes is no approval of these
    found = None
    for result in sorted(ledger.steps.of_incident(incident_id), key=lambda r: r.id):
        run = result.flow_run_id
        outputs = (result.result or {}).get("outputs") or {}
        if not run or run == current_run or result.state != "completed":
            continue
        if outputs.get("decision") != "approved" or outputs.get("saw") != dict(saw):
            continue
        approvers = [str(a) for a in outputs.get("approvers") or []]
        if approvers and _answers_confirm(ledger, run, approvers):
            found = EarlierApproval(approvers, run, result.ended_at)
    return found


def _answers_confirm(ledger: Ledger, flow_run_id: str, approvers: list[str]) -> bool:
    answered = {
        a.who
        for request in ledger.approvals.requests_of_run(flow_run_id)
        for a in ledger.approvals.answers(request.id)
        if a.authorized and a.decision == "approve"
    }
    return set(approvers) <= answered
