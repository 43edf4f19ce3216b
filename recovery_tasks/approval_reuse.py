"""An approval given earlier in the same incident, for exactly the same report bytes.

When an approved publication failed (the portal was down) and the incident is retried
(`runbook retry`), the report is built again from the same partition; if its sha256 equals
the one approved before (and its dashboard feed's, when given), asking again adds nothing but
delay. The earlier approval counts
only if the ledger shows all of it: a run of this incident completed a step that built a
report with this sha256, then an approval step of that run completed with approvers, and each
of them gave an authorized `approve` answer to that run's gate. Anything less: ask again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from governance.ledger import Ledger
from governance.ledger_records import StepResult


@dataclass(frozen=True)
class EarlierApproval:
    """Who approved these bytes, in which run of the incident, and when."""

    approvers: list[str]
    flow_run_id: str
    approved_at: datetime | None


def earlier_approval(
    ledger: Ledger,
    incident_id: int,
    sha256: str,
    current_run: str | None,
    *,
    feed_sha256: str | None = None,
) -> EarlierApproval | None:
    """The latest fully recorded approval of `sha256` (and `feed_sha256`) in another run."""
    results = [r for r in ledger.step_results(incident_id) if r.flow_run_id != current_run]
    found = None
    for run, steps in groupby(sorted(results, key=_run_order), key=lambda r: r.flow_run_id):
        approvers = _approved_after_report(list(steps), sha256, feed_sha256)
        if run and approvers and _answers_confirm(ledger, run, approvers[0]):
            found = EarlierApproval(approvers[0], run, approvers[1])
    return found


def _run_order(result: StepResult) -> tuple[str, int]:
    return (result.flow_run_id or "", result.id)


def _approved_after_report(
    steps: list[StepResult], sha256: str, feed_sha256: str | None
) -> tuple[list[str], datetime | None] | None:
    seen_report = False
    for step in sorted(steps, key=lambda s: s.id):
        outputs = (step.result or {}).get("outputs") or {}
        if step.state != "completed":
            continue
        if outputs.get("sha256") == sha256:
            seen_report = feed_sha256 is None or outputs.get("feed_sha256") == feed_sha256
        elif seen_report and outputs.get("approvers") and outputs.get("decision") == "approved":
            return list(outputs["approvers"]), step.ended_at
    return None


def _answers_confirm(ledger: Ledger, flow_run_id: str, approvers: list[str]) -> bool:
    answered = {
        a.who
        for request in ledger.approval_requests_of_run(flow_run_id)
        for a in ledger.answers(request.id)
        if a.authorized and a.decision == "approve"
    }
    return bool(approvers) and set(approvers) <= answered
