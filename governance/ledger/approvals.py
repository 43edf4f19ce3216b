"""Approval requests (one per pause of a gate) and the answers given, authorized or refused.

Nothing is approved by default: a request needs at least one approval, and a refused answer
is kept with the reason it was refused, so the audit shows who tried.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.records import ApprovalAnswer, ApprovalRequest
from governance.ledger.rows import now, to_record, to_request

DECISIONS = ("approve", "reject")


@dataclass(frozen=True)
class ApprovalLog(LedgerPart):
    """The approvals part of the ledger."""

    def record_request(
        self,
        incident_id: int,
        flow_run_id: str,
        pause_key: str,
        approvers: Iterable[str],
        *,
        min_approvals: int = 1,
        requested_at: datetime | None = None,
        escalate_at: datetime | None = None,
        timeout_at: datetime | None = None,
        step_id: str | None = None,
    ) -> ApprovalRequest:
        """Record a pause of a gate; recording the same (flow run, pause key) again returns it."""
        if min_approvals < 1:
            raise ValueError("min_approvals must be at least 1: never approve by default")
        existing = self.request(flow_run_id, pause_key)
        if existing is not None:
            return existing
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "flow_run_id": flow_run_id,
            "pause_key": pause_key,
            "step_id": step_id,
            "requested_at": requested_at or now(),
            "approvers": sorted(set(approvers)),
            "min_approvals": min_approvals,
            "escalate_at": escalate_at,
            "timeout_at": timeout_at,
        }
        with contextlib.suppress(IntegrityError):  # a concurrent writer: read theirs back
            self._insert(t.approval_requests, row)
        found = self.request(flow_run_id, pause_key)
        assert found is not None
        return found

    def request(self, flow_run_id: str, pause_key: str) -> ApprovalRequest | None:
        """The request recorded for one pause of one flow run."""
        r = t.approval_requests
        found = self._requests(r.c.flow_run_id == flow_run_id, r.c.pause_key == pause_key)
        return found[0] if found else None

    def requests(self, incident_id: int) -> list[ApprovalRequest]:
        """Every gate pause of an incident, oldest first."""
        return self._requests(t.approval_requests.c.incident_id == incident_id)

    def requests_of_run(self, flow_run_id: str) -> list[ApprovalRequest]:
        """Every gate pause of one flow run, oldest first (what `runbook approve` answers)."""
        return self._requests(t.approval_requests.c.flow_run_id == flow_run_id)

    def record_answer(
        self,
        request_id: int,
        who: str,
        decision: str,
        *,
        authorized: bool,
        reason: str | None = None,
        comment: str | None = None,
        answered_at: datetime | None = None,
    ) -> ApprovalAnswer:
        """Append an answer, authorized or refused (then `reason` says why)."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if not authorized and not reason:
            raise ValueError("a refused answer needs the reason it was refused")
        row: dict[str, Any] = {
            "request_id": request_id,
            "who": who,
            "decision": decision,
            "comment": comment,
            "authorized": authorized,
            "reason": reason,
            "answered_at": answered_at or now(),
        }
        return ApprovalAnswer(id=self._insert(t.approval_answers, row), **row)

    def answers(self, request_id: int) -> list[ApprovalAnswer]:
        """Answers to one request in the order given."""
        a = t.approval_answers
        query = sa.select(a).where(a.c.request_id == request_id).order_by(a.c.answered_at, a.c.id)
        with self.engine.connect() as conn:
            return [to_record(ApprovalAnswer, r._mapping) for r in conn.execute(query)]

    def _requests(self, *conditions: Any) -> list[ApprovalRequest]:
        r = t.approval_requests
        query = sa.select(r).where(*conditions).order_by(r.c.id)
        with self.engine.connect() as conn:
            return [to_request(row._mapping) for row in conn.execute(query)]
