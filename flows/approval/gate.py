"""The approval gate's loop: pause with the evidence, rule on the answer, pause again if needed.

What an answer counts for is decided by `flows.approval.decision` (a pure function); this module
does the waiting and the telling. Each pause has its own key (`approve-1`, `approve-2`, ...)
and its own request in the ledger, and each answer is filed under the request of the pause it
answered, so an answer reaches exactly one pause and a late answer finds nothing to resume.

The ledger is the gate's memory: a run that left its process while waiting (suspended, see
`flows.approval.waiting`) or was retried after a crash runs the gate again from the start,
and the gate replays the answers it recorded instead of asking (or notifying) again. The
policy and the deadline are those of the gate's first pause, so a rotation change while it
waits does not change who may answer. Everything that blocks (ledger writes through the
incident recorder, webhook and SMTP notifications) runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from prefect import get_run_logger

from flows.approval.answer import ApprovalAnswer
from flows.approval.blocking import off_loop
from flows.approval.decision import (
    Answer,
    ApproverRules,
    Decision,
    Verdict,
    approver_rules,
    decide,
)
from flows.approval.escalation import disarm_escalation
from flows.approval.evidence import evidence_markdown
from flows.approval.identity import GateIdentity
from flows.approval.opening import announce_gate
from flows.approval.waiting import AnswerLostError, can_suspend, wait_for_answer
from governance.approval_codes import CodeScope
from governance.incidents.recorder import IncidentRecorder, sla_left
from governance.ledger.availability import wait_for_ledger
from governance.ledger.records import ApprovalAnswer as ApprovalRecord
from governance.ledger.records import ApprovalRequest, IncidentState
from governance.models import GovernanceConfig
from governance.oncall.responders import notify_targets
from recovery_tasks.context import StepContext
from recovery_tasks.errors import GateClosed
from recovery_tasks.services import RunServices

T = TypeVar("T")
LEDGER_WAIT_FLOOR = 300.0  # seconds an answer waits for the ledger even past the SLA


@dataclass(frozen=True)
class GatePolicy:
    """What this gate needs: who may answer, how many, how long, when to escalate."""

    pipeline: str  # whose on-call engineers and owners answer: the pipeline published
    rules: ApproverRules
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
    config: GovernanceConfig, ctx: StepContext, params: Any, now: datetime
) -> GatePolicy:
    """The policy of an approval step (`params`: pipeline, approvers, also, ...) at `now`."""
    pipeline = getattr(params, "pipeline", None) or ctx.pipeline
    rules = approver_rules(
        config,
        pipeline,
        now,
        only=params.approvers,
        also=params.also,
        min_approvals=params.min_approvals,
        started_by=ctx.triggered_by,
    )
    return GatePolicy(
        pipeline=pipeline,
        rules=rules,
        timeout=ctx.timeout or timedelta(hours=2),
        escalate_after=params.escalate_after or config.escalate_after(pipeline),
        poll_interval=params.poll_interval,
    )


async def keep_recording(ctx: StepContext, write: Callable[[], T], holding: str) -> T:
    """`write()` to the ledger, waiting for an unavailable ledger within the SLA time left
    (at least LEDGER_WAIT_FLOOR), with one message to the run's log instead of tracebacks."""
    left = sla_left(ctx.incident)
    budget = max(left.total_seconds() if left else 0.0, LEDGER_WAIT_FLOOR)
    say = get_run_logger().warning
    return await off_loop(wait_for_ledger, write, budget_seconds=budget, holding=holding, say=say)


async def run_gate(ctx: StepContext, policy: GatePolicy, services: RunServices) -> GateOutcome:
    """Wait until enough authorized approvals arrive; raise GateClosed otherwise."""
    story = services.story()
    notifier = services.notifier()
    incident_id = ctx.incident.get("id")
    ui_url = services.ui_url
    run_link = f"{ui_url}/runs/flow-run/{ctx.flow_run_id}" if ui_url else ctx.flow_run_id
    history = await off_loop(story.gate_history, ctx.step_id)
    opened = history[0][0].requested_at if history else datetime.now(UTC)
    first = history[0][0] if history else None
    deadline = first.timeout_at if first and first.timeout_at else opened + policy.timeout
    targets = notify_targets(services.governance, policy.pipeline, opened)
    scope = CodeScope(str(ctx.flow_run_id), ctx.step_id, deadline)
    identity = GateIdentity.of(services.settings.approval, scope)
    if not history:  # the gate's first pause: tell the people and arm escalation, once
        await announce_gate(
            ctx,
            services,
            identity,
            pipeline=policy.pipeline,
            authorized=policy.rules.authorized,
            targets=targets,
            escalate_after=policy.escalate_after,
        )
    suspend = can_suspend(story.incident_id is not None)
    waiting = _Waiting(ctx, policy, story, opened, deadline, suspend, identity)
    verdict, request = await waiting.collect(history)
    await disarm_escalation(str(ctx.flow_run_id))  # not reached while suspended: it keeps watch
    if verdict.outcome == "rejected" and verdict.rejection is not None:
        who, comment = verdict.rejection.who, verdict.rejection.comment
        rejected = functools.partial(
            story.state, IncidentState.REJECTED, actor=who, detail={"comment": comment}
        )
        await keep_recording(ctx, rejected, f"the rejection by {who}")
        raise GateClosed(
            f"rejected by {who}: {comment or 'no comment'}",
            {"decision": "rejected", "by": who, "comment": comment},
        )
    if verdict.outcome != "approved":
        await off_loop(story.state, IncidentState.TIMED_OUT, detail={"after": str(policy.timeout)})
        await off_loop(
            notifier.notify_all,
            [*targets.first, *targets.escalation],
            "approval_timed_out",
            f"{policy.pipeline}: nobody approved within {policy.timeout}; nothing "
            f"was published and incident {incident_id} stays open: {run_link}",
            incident_id=incident_id,
        )
        raise GateClosed(
            f"no authorized approval within {policy.timeout}; nothing published",
            {"decision": "timed_out"},
        )
    approved = functools.partial(
        story.state,
        IncidentState.APPROVED,
        actor=",".join(verdict.approvers),
        detail={"by": verdict.approvers},
    )
    await keep_recording(ctx, approved, f"the approval by {', '.join(verdict.approvers)}")
    return GateOutcome(verdict.approvers, verdict.comments, request.id if request else None)


@dataclass
class _Waiting:
    """One gate's pauses: replay what the ledger holds, then wait for the next answer."""

    ctx: StepContext
    policy: GatePolicy
    story: IncidentRecorder
    opened: datetime
    deadline: datetime
    suspend: bool
    identity: GateIdentity

    async def collect(
        self, history: list[tuple[ApprovalRequest, list[ApprovalRecord]]]
    ) -> tuple[Verdict, ApprovalRequest | None]:
        """The verdict, and the request of the pause whose answer decided it."""
        rules = self.policy.rules
        answers = [_recorded(a) for _, given in history for a in given]
        request = history[-1][0] if history else None
        verdict = decide(rules, answers)
        while verdict.outcome == "waiting":
            left = (self.deadline - datetime.now(UTC)).total_seconds()
            if left <= 0:
                return decide(rules, answers, timed_out=True), request
            key = f"{self.ctx.step_id}-{len(answers) + 1}"
            request = await self._request(key)
            given = await self._ask_until_on_record(key, verdict, int(left))
            if given is None:
                return decide(rules, answers, timed_out=True), request
            who = given.approver.strip()
            unproven = self.identity.refusal(who, given.code, datetime.now(UTC))
            answer = Answer(who, given.decision, given.comment, unproven)
            answers.append(answer)
            verdict = decide(rules, answers)
            await self._record(request, answer, verdict)
        return verdict, request

    async def _request(self, key: str) -> ApprovalRequest | None:
        """The ledger's request for this pause (recorded once, whatever the replays)."""
        rules = self.policy.rules
        return await off_loop(
            self.story.approval_requested,
            key,
            rules.authorized,
            min_approvals=rules.min_approvals,
            escalate_at=self.opened + self.policy.escalate_after,
            timeout_at=self.deadline,
            step_id=self.ctx.step_id,
        )

    async def _ask_until_on_record(self, key: str, verdict: Verdict, left: int) -> Any:
        """Ask under `key`; if that pause was left without an answer on record (a crash
        retried after it suspended), ask again under `key-again-N`: never guess an answer."""
        asked = key
        for again in range(1, 100):
            try:
                return await self._ask(asked, verdict, left)
            except AnswerLostError as lost:
                get_run_logger().warning("%s", lost)
                asked = f"{key}-again-{again}"
        raise AnswerLostError(asked)

    async def _ask(self, key: str, verdict: Verdict, left: int) -> Any:
        """Show the evidence and wait for this pause's answer (None on timeout)."""
        rules = self.policy.rules
        evidence = await off_loop(
            evidence_markdown,
            self.ctx,
            list(rules.authorized),
            rules.min_approvals,
            verdict.approvers,
            verdict.notes,
            pipeline=self.policy.pipeline,
        )
        # no preset decision: the engineer chooses approve or reject on the form
        described = f"{self.identity.form_note}\n\n{evidence}"
        form = ApprovalAnswer.with_initial_data(description=described)
        return await wait_for_answer(
            form,
            key=key,
            timeout=max(left, 1),
            poll_interval=self.policy.poll_interval,
            suspend=self.suspend,
        )

    async def _record(
        self, request: ApprovalRequest | None, answer: Answer, verdict: Verdict
    ) -> None:
        """File the answer under its pause's request, with the ruling."""
        ruling = verdict.rulings[-1]
        filed = functools.partial(
            self.story.answer,
            request,
            answer.who,
            answer.decision,
            refusal=ruling.refusal,
            comment=answer.comment,
        )
        await keep_recording(self.ctx, filed, f"the answer of {answer.who} ({answer.decision})")
        logger = get_run_logger()
        if ruling.refusal is not None:
            logger.warning("answer refused: %s", ruling.refusal)
            await off_loop(
                self.story.state,
                IncidentState.ANSWER_REFUSED,
                actor=answer.who,
                detail={"who": answer.who, "reason": ruling.refusal},
            )
        elif answer.decision == "approve":
            logger.info(
                "approved by %s (%d of %d)",
                answer.who,
                len(verdict.approvals),
                self.policy.rules.min_approvals,
            )


def _recorded(record: ApprovalRecord) -> Answer:
    """An answer as the ledger kept it, for the replay: a refusal stays a refusal (the proof
    it lacked, such as an approval code, is not in the ledger to check again)."""
    decision: Decision = "reject" if record.decision == "reject" else "approve"
    unproven = None if record.authorized else (record.reason or "refused")
    return Answer(record.who, decision, record.comment or "", unproven)


async def on_call_gate(params: Any, ctx: StepContext) -> GateOutcome:
    """The run's approval gate service: policy from the run's governance snapshot, then wait.

    `params` is the approval step's params (approvers, also, min_approvals, escalate_after,
    poll_interval); the step type in `recovery_tasks.approval` calls this through its context.
    The policy is taken at the gate's first pause (a replayed gate keeps its approvers).
    """
    services = ctx.run
    history = await off_loop(services.story().gate_history, ctx.step_id)
    since = history[0][0].requested_at if history else datetime.now(UTC)
    policy = gate_policy(services.governance, ctx, params, since)
    clock = published_clock(services.governance, ctx.incident, policy.pipeline)
    return await run_gate(dataclasses.replace(ctx, incident=clock), policy, services)


def published_clock(
    config: GovernanceConfig, incident: dict[str, Any], pipeline: str
) -> dict[str, Any]:
    """The incident as the gate of `pipeline`'s publication reads it: on the SLA clock of the
    pipeline published, started at the same failure. A report investors read is due within
    their SLA whichever pipeline's recovery rebuilt it (the evidence names whose clock it is)."""
    spec = config.pipelines.get(pipeline)
    opened = incident.get("opened_at")
    if spec is None or not opened or incident.get("pipeline", pipeline) == pipeline:
        return incident
    deadline = datetime.fromisoformat(opened) + spec.sla
    return {
        **incident,
        "sla_of": pipeline,
        "sla_seconds": spec.sla.total_seconds(),
        "deadline": deadline.isoformat(),
    }
