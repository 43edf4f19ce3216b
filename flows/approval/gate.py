"""The approval gate's loop: pause with the evidence, check the answer, pause again if needed.

Fail closed: only an authorized approve (from enough distinct people) opens the gate. A
reject stops the run; a timeout stops the run; an answer from anyone else is refused,
recorded and the run pauses again with the reason at the top of the evidence. Each pause has
its own key, so an answer reaches exactly one pause and a late answer finds nothing to resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run

from flows.approval.answer import ApprovalAnswer
from flows.approval.escalation import arm_escalation, disarm_escalation
from flows.approval.evidence import evidence_markdown
from governance.ledger import Ledger
from governance.ledger_records import IncidentState
from governance.models import GovernanceConfig
from governance.notify import Notifier
from governance.responders import authorized_approvers, notify_targets
from recovery_tasks.context import StepContext
from recovery_tasks.errors import GateClosed


@dataclass
class GatePolicy:
    """What this gate needs: who may answer, how many, how long, when to escalate."""

    authorized: list[str]
    min_approvals: int
    timeout: timedelta
    escalate_after: timedelta
    poll_interval: int


@dataclass
class GateOutcome:
    """How the gate ended when it opened."""

    approvers: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    request_id: int | None = None


def gate_policy(
    config: GovernanceConfig,
    ctx: StepContext,
    only: list[str] | None,
    also: list[str],
    min_approvals: int,
    escalate_after: timedelta | None,
    poll_interval: int,
) -> GatePolicy:
    """Who may answer now: on-call and owners by default, narrowed or widened by the runbook.

    Whoever started the run by hand is never among them.
    """
    now = datetime.now(UTC)
    base = set(only) if only is not None else authorized_approvers(config, ctx.pipeline, now)
    unknown = sorted((base | set(also)) - set(config.engineers))
    if unknown:
        raise GateClosed(f"approvers not in governance.yaml: {', '.join(unknown)}")
    allowed = sorted((base | set(also)) - {ctx.triggered_by})
    if len(allowed) < min_approvals:
        raise GateClosed(
            f"only {len(allowed)} people may approve ({', '.join(allowed)}) but "
            f"{min_approvals} approvals are required"
        )
    return GatePolicy(
        authorized=allowed,
        min_approvals=min_approvals,
        timeout=ctx.timeout or timedelta(hours=2),
        escalate_after=escalate_after or config.escalate_after(ctx.pipeline),
        poll_interval=poll_interval,
    )


async def run_gate(
    ctx: StepContext,
    policy: GatePolicy,
    config: GovernanceConfig,
    ledger: Ledger,
    ui_url: str | None,
) -> GateOutcome:
    """Pause until enough authorized approvals arrive; raise GateClosed otherwise."""
    logger = get_run_logger()
    incident_id = ctx.incident.get("id")
    deadline = datetime.now(UTC) + policy.timeout
    run_link = f"{ui_url}/runs/flow-run/{ctx.flow_run_id}" if ui_url else ctx.flow_run_id
    targets = notify_targets(config, ctx.pipeline, datetime.now(UTC))
    notifier = Notifier(config, ledger)
    request = (
        ledger.record_approval_request(
            incident_id,
            str(ctx.flow_run_id),
            f"{ctx.step_id}-1",
            policy.authorized,
            min_approvals=policy.min_approvals,
            escalate_at=datetime.now(UTC) + policy.escalate_after,
            timeout_at=deadline,
            step_id=ctx.step_id,
        )
        if incident_id
        else None
    )
    outcome = GateOutcome(request_id=request.id if request else None)
    _state(ledger, incident_id, IncidentState.AWAITING_APPROVAL, {"step": ctx.step_id})
    notifier.notify_all(
        targets.first,
        "approval_requested",
        f"{ctx.pipeline}: recovery of incident {incident_id} waits for your approval: {run_link}",
        incident_id=incident_id,
    )
    automation = await arm_escalation(
        config,
        str(ctx.flow_run_id),
        list(targets.escalation),
        policy.escalate_after,
        subject=f"Escalation: {ctx.pipeline} approval unanswered",
        body=f"Nobody has answered the approval of {ctx.pipeline} (incident {incident_id}) "
        f"for {policy.escalate_after}. Please review: {run_link}",
    )
    notes: list[str] = []
    approvals: dict[str, str] = {}
    pause = 0
    try:
        while len(approvals) < policy.min_approvals:
            left = (deadline - datetime.now(UTC)).total_seconds()
            if left <= 0:
                raise FlowPauseTimeout("approval deadline passed")
            pause += 1
            form = ApprovalAnswer.with_initial_data(
                description=evidence_markdown(
                    ctx, policy.authorized, policy.min_approvals, list(approvals), notes
                ),
                decision="approve",
            )
            answer = await pause_flow_run(
                wait_for_input=form,
                timeout=max(int(left), 1),
                poll_interval=policy.poll_interval,
                key=f"{ctx.step_id}-{pause}",
            )
            who = answer.approver.strip()
            refusal = _refusal(who, policy, ctx, approvals)
            if request is not None:
                ledger.record_answer(
                    request.id,
                    who or "(blank)",
                    answer.decision,
                    authorized=refusal is None,
                    reason=refusal,
                    comment=answer.comment or None,
                )
            if refusal is not None:
                logger.warning("answer refused: %s", refusal)
                notes.append(f"Answer from '{who}' refused: {refusal}")
                _state(
                    ledger,
                    incident_id,
                    IncidentState.ANSWER_REFUSED,
                    {"who": who, "reason": refusal},
                    actor=who,
                )
                continue
            if answer.decision == "reject":
                _state(
                    ledger,
                    incident_id,
                    IncidentState.REJECTED,
                    {"comment": answer.comment},
                    actor=who,
                )
                raise GateClosed(
                    f"rejected by {who}: {answer.comment or 'no comment'}",
                    {"decision": "rejected", "by": who, "comment": answer.comment},
                )
            approvals[who] = answer.comment
            logger.info("approved by %s (%d of %d)", who, len(approvals), policy.min_approvals)
    except FlowPauseTimeout:
        _state(ledger, incident_id, IncidentState.TIMED_OUT, {"after": str(policy.timeout)})
        notifier.notify_all(
            [*targets.first, *targets.escalation],
            "approval_timed_out",
            f"{ctx.pipeline}: nobody approved within {policy.timeout}; nothing "
            f"was published and incident {incident_id} stays open: {run_link}",
            incident_id=incident_id,
        )
        raise GateClosed(
            f"no authorized approval within {policy.timeout}; nothing published",
            {"decision": "timed_out"},
        ) from None
    finally:
        await disarm_escalation(automation)
    _state(
        ledger,
        incident_id,
        IncidentState.APPROVED,
        {"by": list(approvals)},
        actor=",".join(approvals),
    )
    outcome.approvers = list(approvals)
    outcome.comments = [c for c in approvals.values() if c]
    return outcome


def _refusal(
    who: str, policy: GatePolicy, ctx: StepContext, approvals: dict[str, str]
) -> str | None:
    """Why this answer cannot count (None when it can)."""
    if who and who == ctx.triggered_by:
        return f"{who} started this run by hand and cannot approve it"
    if who not in policy.authorized:
        return f"'{who}' may not answer this gate; authorized: {', '.join(policy.authorized)}"
    if who in approvals:
        return f"{who} has already approved; {policy.min_approvals} distinct approvers needed"
    return None


def _state(
    ledger: Ledger,
    incident_id: int | None,
    state: IncidentState,
    detail: dict,
    actor: str | None = None,
) -> None:
    if incident_id:
        ledger.record_state(incident_id, state, detail=detail, actor=actor)


async def on_call_gate(params: Any, ctx: StepContext) -> GateOutcome:
    """The run's approval gate service: policy from the run's governance snapshot, then wait.

    `params` is the approval step's params (approvers, also, min_approvals, escalate_after,
    poll_interval); the step type in `recovery_tasks.approval` calls this through its context.
    """
    services = ctx.run
    policy = gate_policy(
        services.governance,
        ctx,
        params.approvers,
        params.also,
        params.min_approvals,
        params.escalate_after,
        params.poll_interval,
    )
    return await run_gate(ctx, policy, services.governance, services.ledger, services.ui_url)
