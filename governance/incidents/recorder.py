"""The incident a runbook run works on: opened from the failure event, told what happens.

A run opens (or, for the same event, re-finds) its incident in the audit ledger before any
step runs; each step's outcome, each state change, each gate pause and answer, what was
published and who was notified is appended, so `runbook audit` can tell the whole story later
even if the flow's process is gone. The recorder is the one writer of an incident's story:
the execution, the gate, publish, notify and the SLA watch all go through it.

Writes block (a database round trip): async callers run them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from foundation.durations import format_duration
from governance.incidents.reference import Claim, IncidentRef, Retry
from governance.ledger.audit_ledger import Ledger
from governance.ledger.records import (
    ApprovalAnswer,
    ApprovalRequest,
    Incident,
    IncidentState,
    Notification,
    StepResult,
)
from governance.models import GovernanceConfig

FLOW_RUN_FAILED = "prefect.flow-run.Failed"


class IncidentRecorder:
    """Writes one incident's story to the ledger (bound to it by `open` or `of`).

    `keeps_story` is False for `UnrecordedRun`, the recorder of runs that open no incident.
    """

    keeps_story = True

    def __init__(
        self,
        ledger: Ledger,
        config: GovernanceConfig,
        *,
        incident_id: int | None = None,
        flow_run_id: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.config = config
        self.incident_id = incident_id
        self.flow_run_id = flow_run_id

    def of(self, incident_id: int) -> IncidentRecorder:
        """A recorder for an incident already in the ledger (the SLA watch's view of each)."""
        return IncidentRecorder(self.ledger, self.config, incident_id=incident_id)

    def of_run(self, flow_run_id: str) -> IncidentRecorder | None:
        """A recorder bound to the incident this flow run opened (None if it opened none)."""
        incident = self.ledger.incidents.of_run(flow_run_id)
        if incident is None:
            return None
        return IncidentRecorder(
            self.ledger, self.config, incident_id=incident.id, flow_run_id=flow_run_id
        )

    def current_state(self) -> str | None:
        """The bound incident's latest lifecycle state."""
        return (
            None
            if self.incident_id is None
            else self.ledger.incidents.current_state(self.incident_id)
        )

    def crashes(self) -> int:
        """How often this flow run crashed (`crashed` states recorded for it)."""
        if self.incident_id is None:
            return 0
        return sum(
            1
            for e in self.ledger.incidents.events(self.incident_id)
            if e.state == IncidentState.CRASHED
            and isinstance(e.detail, dict)
            and e.detail.get("flow_run_id") == self.flow_run_id
        )

    def open(
        self,
        runbook: str,
        pipeline: str,
        event: dict[str, Any],
        params: dict[str, Any],
        flow_run_id: str | None,
        *,
        kind: str | None = None,
    ) -> IncidentRef:
        """Open the incident at the event's time, bound to this recorder from now on.

        `kind` overrides the event's (e.g. `invalid_event`).
        """
        payload = event.get("payload") or {}
        incident = self.ledger.incidents.open(
            pipeline,
            kind or _event_kind(event),
            _event_time(event),
            partition=str(params.get("partition") or payload.get("partition") or "") or None,
            event_id=_event_id(event),
            runbook=runbook,
            flow_run_id=flow_run_id,
        )
        return self._recovering(incident, event, runbook, flow_run_id)

    def claim(
        self,
        runbook: str,
        pipeline: str,
        event: dict[str, Any],
        partition: str,
        flow_run_id: str | None,
    ) -> Claim:
        """Open the event's incident claiming its (pipeline, partition) key; if another
        incident holds the key, the event is attached there, nothing is opened and this
        recorder stays unbound (the claim says `attached`: this run must start nothing)."""
        opening = self.ledger.keys.open_or_attach(
            pipeline,
            partition,
            _event_kind(event),
            _event_time(event),
            event_id=_event_id(event),
            runbook=runbook,
            flow_run_id=flow_run_id,
        )
        if opening.attached:
            return Claim(IncidentRef.of(opening.incident, event, self.config), attached=True)
        opened = self._recovering(opening.incident, event, runbook, flow_run_id)
        return Claim(opened, attached=False)

    def _recovering(
        self, incident: Incident, event: dict[str, Any], runbook: str, flow_run_id: str | None
    ) -> IncidentRef:
        """Bind to a just-opened incident and mark it `recovering` by this run."""
        self.incident_id, self.flow_run_id = incident.id, flow_run_id
        self.ledger.incidents.record_state(
            incident.id,
            IncidentState.RECOVERING,
            detail={"runbook": runbook, "flow_run_id": flow_run_id},
        )
        return IncidentRef.of(incident, event, self.config)

    def resume(
        self, retry: Retry, runbook: str, event: dict[str, Any], flow_run_id: str | None
    ) -> IncidentRef:
        """Work on an open incident again (`runbook retry`): same incident, same SLA clock.

        Records who retried and why as the incident's return to `recovering`.
        """
        incident = self.ledger.incidents.get(retry.incident_id)
        self.incident_id, self.flow_run_id = incident.id, flow_run_id
        self.ledger.incidents.record_state(
            incident.id,
            IncidentState.RECOVERING,
            actor=retry.by,
            detail={
                "retry": True,
                "reason": retry.reason,
                "runbook": runbook,
                "flow_run_id": flow_run_id,
            },
        )
        return IncidentRef.of(incident, event, self.config)

    def rebind(self, flow_run_id: str, event: dict[str, Any]) -> IncidentRef | None:
        """Bind to the incident this flow run already opened, if any (a run started again
        after a suspension or a crash), writing nothing."""
        incident = self.ledger.incidents.of_run(flow_run_id)
        if incident is None:
            return None
        self.incident_id, self.flow_run_id = incident.id, flow_run_id
        return IncidentRef.of(incident, event, self.config)

    def run_steps(self) -> list[StepResult]:
        """The step outcomes this flow run recorded, oldest first (what a re-run restores)."""
        if self.incident_id is None or self.flow_run_id is None:
            return []
        results = self.ledger.steps.of_incident(self.incident_id)
        return [r for r in results if r.flow_run_id == self.flow_run_id]

    def step(
        self,
        step_id: str,
        state: str,
        *,
        outputs: dict[str, Any] | None = None,
        message: str | None = None,
        started: datetime | None = None,
        ended: datetime | None = None,
    ) -> None:
        """Append a step's outcome."""
        if self.incident_id is None:
            return
        self.ledger.steps.record(
            self.incident_id,
            step_id,
            state,
            started_at=started,
            ended_at=ended,
            result={"outputs": outputs, "message": message},
            flow_run_id=self.flow_run_id,
        )

    def state(
        self,
        state: IncidentState | str,
        *,
        actor: str | None = None,
        detail: Any = None,
        at: datetime | None = None,
    ) -> None:
        """Append a lifecycle state or marker."""
        if self.incident_id is not None:
            self.ledger.incidents.record_state(
                self.incident_id, state, at=at, actor=actor, detail=detail
            )

    # -- the approval gate ---------------------------------------------------------------------

    def approval_requested(
        self,
        pause_key: str,
        approvers: Iterable[str],
        *,
        min_approvals: int,
        escalate_at: datetime | None,
        timeout_at: datetime | None,
        step_id: str,
    ) -> ApprovalRequest | None:
        """Record a gate's pause (None when the run keeps no story: nothing to answer to)."""
        if self.incident_id is None:
            return None
        return self.ledger.approvals.record_request(
            self.incident_id,
            str(self.flow_run_id),
            pause_key,
            approvers,
            min_approvals=min_approvals,
            escalate_at=escalate_at,
            timeout_at=timeout_at,
            step_id=step_id,
        )

    def gate_history(self, step_id: str) -> list[tuple[ApprovalRequest, list[ApprovalAnswer]]]:
        """This run's pauses of one gate with the answers filed under each, in pause order."""
        if self.incident_id is None or self.flow_run_id is None:
            return []
        requests = self.ledger.approvals.requests_of_run(self.flow_run_id)
        return [(r, self.ledger.approvals.answers(r.id)) for r in requests if r.step_id == step_id]

    def answer(
        self,
        request: ApprovalRequest | None,
        who: str,
        decision: str,
        *,
        refusal: str | None,
        comment: str | None = None,
    ) -> None:
        """Append an answer to a recorded pause: counted, or refused with the reason."""
        if request is None:
            return
        self.ledger.approvals.record_answer(
            request.id,
            who or "(blank)",
            decision,
            authorized=refusal is None,
            reason=refusal,
            comment=comment or None,
        )

    # -- publications, notifications, the SLA clock --------------------------------------------

    def intend_publication(
        self,
        key: str,
        pipeline: str,
        partition: str,
        report_sha256: str,
        feed_sha256: str | None,
        approved_by: list[str],
    ) -> int | None:
        """Put on record what is about to be sent to the portal (before the request)."""
        if self.incident_id is None:
            return None
        return self.ledger.intents.record(
            self.incident_id, key, pipeline, partition, report_sha256, feed_sha256, approved_by
        )

    def published(
        self, intent_id: int, receipts: list[dict[str, Any]], approved_by: list[str], **why: Any
    ) -> None:
        """The portal's receipts for an intent, then `published` (`why`: extra detail); nothing
        when the intent was settled already."""
        if not self.ledger.intents.settle(intent_id, receipts):
            return
        report = next((r for r in receipts if r["kind"] == "report"), receipts[0])
        detail = {"receipt": report["receipt_id"], "version": report["version"], **why}
        self.state(IncidentState.PUBLISHED, actor=",".join(approved_by), detail=detail)

    def record_notification(
        self,
        recipient: str,
        channel: str,
        reason: str,
        *,
        delivered: bool,
        incident_id: int | None = None,
        target: str | None = None,
        detail: str | None = None,
        sent_at: datetime | None = None,
    ) -> Notification:
        """Append one notification attempt (the `Notifier`'s log), about this incident."""
        return self.ledger.notifications.record_notification(
            recipient,
            channel,
            reason,
            delivered=delivered,
            incident_id=incident_id if incident_id is not None else self.incident_id,
            target=target,
            detail=detail,
            sent_at=sent_at,
        )

    def escalated(
        self, targets: Iterable[str], unanswered_for: timedelta, flow_run_id: str
    ) -> None:
        """Mark that an unanswered gate was escalated (the attempts follow as notifications)."""
        self.state(
            IncidentState.ESCALATED,
            detail={
                "to": list(targets),
                "unanswered_for": format_duration(unanswered_for),
                "flow_run_id": flow_run_id,
            },
        )

    def sla_threshold(self, threshold: float, at: datetime) -> None:
        """Mark that the share `threshold` of the SLA was used (and its people told)."""
        self.state(IncidentState.SLA_THRESHOLD, at=at, detail={"threshold": threshold})

    def breached(self, deadline: datetime, at: datetime) -> None:
        """Mark the SLA breached; the incident stays open."""
        self.state(IncidentState.BREACHED, at=at, detail={"deadline": deadline.isoformat()})


def _event_kind(event: dict[str, Any]) -> str:
    """The failure's kind as the event tells it (a Prefect flow-run failure: an ETL job's)."""
    payload = event.get("payload") or {}
    default = "etl_job_failure" if event.get("event") == FLOW_RUN_FAILED else "manual"
    return str(payload.get("kind") or default)


def _event_id(event: dict[str, Any]) -> str | None:
    return str(event["id"]) if event.get("id") else None


def _event_time(event: dict[str, Any]) -> datetime:
    occurred = event.get("occurred")
    if isinstance(occurred, str):
        try:
            parsed = datetime.fromisoformat(occurred.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def sla_left(incident: dict[str, Any], now: datetime | None = None) -> timedelta | None:
    """Time left before the incident's SLA deadline (negative once breached)."""
    deadline = incident.get("deadline")
    if not deadline:
        return None
    return datetime.fromisoformat(deadline) - (now or datetime.now(UTC))
