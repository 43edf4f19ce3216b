"""Answer a paused gate from outside the flow (the `runbook approve/reject` commands).

The answer goes to the same place as the UI's Resume form (Prefect's run input), so the gate
applies the same checks; this module then waits for the gate's verdict in the audit ledger
(read in a worker thread: the ledger is a blocking database client). A suspended run has no
process: the answer reschedules it, and the verdict comes once a runner has started it again.
A run that ended (crashed, failed, cancelled) can no longer continue, and says so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import anyio
from prefect.client.orchestration import PrefectClient, get_client
from prefect.exceptions import FlowPauseTimeout, ObjectNotFound, PrefectHTTPStatusError
from prefect.flow_runs import resume_flow_run

from foundation.errors import RecoveryError, TerminalError
from governance.ledger.audit_ledger import Ledger
from governance.ledger.records import ApprovalAnswer


class AnswerError(RecoveryError, TerminalError):
    """The answer could not be delivered (unknown run, not waiting for approval)."""


@dataclass(frozen=True)
class Verdict:
    """What the gate made of the answer."""

    accepted: bool
    detail: str


async def answer_gate(
    flow_run_id: str,
    approver: str,
    decision: str,
    comment: str,
    ledger: Ledger,
    wait_seconds: float = 30.0,
    *,
    code: str = "",
) -> Verdict | None:
    """Resume the paused run with this answer and wait for the gate to record its verdict.

    `code` is the approver's approval code; without one the production profile refuses it.
    """
    async with get_client() as client:
        try:
            run = await client.read_flow_run(UUID(flow_run_id))
        except (ObjectNotFound, ValueError):
            raise AnswerError(f"no flow run {flow_run_id}") from None
        if run.state is None or not run.state.is_paused():
            raise AnswerError(_not_waiting(flow_run_id, run.state))
        await _wait_for_form(client, run.id, run.state.state_details.run_input_keyset or {})
    before = await anyio.to_thread.run_sync(_answers, ledger, flow_run_id)
    try:
        await resume_flow_run(
            flow_run_id,
            run_input={  # type: ignore[arg-type]
                "approver": approver,
                "decision": decision,
                "comment": comment,
                "code": code,
            },
        )
    except FlowPauseTimeout:
        raise AnswerError(
            f"flow run {flow_run_id} can no longer continue: its approval deadline passed"
        ) from None
    except Exception as exc:  # NotPausedError and API validation errors alike
        raise AnswerError(f"the run did not accept the answer: {exc}") from None
    for _ in range(int(wait_seconds * 4)):
        after = await anyio.to_thread.run_sync(_answers, ledger, flow_run_id)
        if len(after) > len(before):
            answer = after[-1]
            if answer.authorized:
                return Verdict(True, f"{decision} by {approver} recorded")
            return Verdict(False, f"refused: {answer.reason}")
        await asyncio.sleep(0.25)
    return None


async def after_delivery(flow_run_id: str) -> Verdict | None:
    """What to tell someone whose answer was delivered but has no verdict yet: None while
    the run can still act on it, a refusal when it ended meanwhile."""
    async with get_client() as client:
        state = (await client.read_flow_run(UUID(flow_run_id))).state
    if state is not None and state.is_final():
        return Verdict(False, _not_waiting(flow_run_id, state))
    return None


def _not_waiting(flow_run_id: str, state: Any) -> str:
    """Why an answer cannot reach the run: it ended (for good), or it is not at a gate."""
    if state is not None and state.is_final():
        why = f": {state.message}" if state.message else ""
        return f"flow run {flow_run_id} can no longer continue: it ended {state.name}{why}"
    name = state.name if state is not None else "unknown"
    return (
        f"flow run {flow_run_id} is not waiting for approval (state: {name});"
        " a late or repeated answer changes nothing"
    )


async def _wait_for_form(client: PrefectClient, flow_run_id: UUID, keyset: dict[str, str]) -> None:
    """Prefect marks a run Paused a moment before it saves the form's schema; wait for it."""
    for _ in range(40):
        if keyset.get("schema") and await _input_saved(client, flow_run_id, keyset["schema"]):
            return
        await asyncio.sleep(0.25)


async def _input_saved(client: PrefectClient, flow_run_id: UUID, key: str) -> bool:
    """Whether the run input `key` exists (read on our own client, which we close)."""
    try:
        await client.read_flow_run_input(flow_run_id, key)
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code == 404:
            return False
        raise
    return True


def _answers(ledger: Ledger, flow_run_id: str) -> list[ApprovalAnswer]:
    """Every answer recorded for the gates of this flow run, oldest first."""
    requests = ledger.approvals.requests_of_run(flow_run_id)
    return sorted(
        (a for r in requests for a in ledger.approvals.answers(r.id)),
        key=lambda a: (a.answered_at, a.id),
    )
