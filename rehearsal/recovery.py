"""Running a pipeline's runbook for a failure event, and answering its gate as the rehearsal.

The runbook runs as its compiled Prefect flow in a thread, exactly as a deployment would run
it. Meanwhile the rehearsal watches the scratch ledger: when the run's gate asks for approval
it answers through the same path as `runbook approve` (Prefect's run input), as the engineer
`rehearsal`, with a comment saying that no person reviewed the evidence. The ledger keeps
that answer like any other, so the audit of a rehearsal says who approved: the rehearsal.
An annotation gate (`approval.annotate`) is rejected instead: an explanation of a swing is a
person's word, and a rehearsal has none to give.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from prefect.exceptions import Pause, PrefectHTTPStatusError

from deployments.application import RecoveryApplication
from flows.approval.answering import AnswerError, answer_gate
from flows.runtime.compiler import compile_runbook
from governance.ledger.audit_ledger import Ledger
from rehearsal.verdict import RunInfo
from rehearsal.workspace import APPROVER

COMMENT = "rehearsal approver: automatic answer in a rehearsal; no person reviewed the evidence"
NO_ANNOTATION = "rehearsal approver: a rehearsal explains no swing; a person must annotate it"


@dataclass
class GateWatch:
    """Answers each approval request of one incident once; calls `on_answer` after each."""

    ledger: Ledger
    event_id: str
    on_answer: Callable[[], object] | None = None
    annotation_steps: frozenset[str] = frozenset()  # gates asking for a person's note

    def __post_init__(self) -> None:
        self.answered: set[int] = set()

    def poll(self) -> None:
        """Answer any request of the incident not answered yet (if its run is paused)."""
        incident = self.ledger.incidents.find_by_event(self.event_id)
        if incident is None:
            return
        for request in self.ledger.approvals.requests(incident.id):
            if request.id in self.answered or self.ledger.approvals.answers(request.id):
                continue
            decision, comment = (
                ("reject", NO_ANNOTATION)
                if request.step_id in self.annotation_steps
                else ("approve", COMMENT)
            )
            try:
                verdict = asyncio.run(
                    answer_gate(request.flow_run_id, APPROVER, decision, comment, self.ledger)
                )
            except AnswerError:
                continue  # not paused yet: the next poll tries again
            if verdict is not None:
                self.answered.add(request.id)
                if self.on_answer is not None:
                    self.on_answer()


def runbook_for(pipeline: str) -> Any:
    """The valid runbook of the application that recovers `pipeline`."""
    for runbook in RecoveryApplication.load(strict=False).runbooks:
        if runbook.spec.pipeline == pipeline:
            return runbook
    raise LookupError(f"no valid runbook recovers {pipeline}")


def run_recovery(
    pipeline: str,
    event: dict[str, Any],
    ledger: Ledger,
    *,
    timeout: float,
    on_start: Callable[[], object] | None = None,
    on_answer: Callable[[], object] | None = None,
) -> RunInfo:
    """Run the pipeline's runbook for `event` to its end, answering its gate; say how it went."""
    runbook = runbook_for(pipeline)
    compiled = compile_runbook(runbook)
    annotation_steps = frozenset(
        s for s, t in runbook.types.items() if t.name == "approval.annotate"
    )
    box: list[Any] = []
    errors: list[BaseException] = []

    context = contextvars.copy_context()  # the thread talks to the same Prefect API as we do

    def go() -> None:
        try:
            flow_run = compiled.flow(event=event, return_state=True)
            box.append(context.run(asyncio.run, flow_run))
        except BaseException as exc:  # reported below, not lost with the thread
            errors.append(exc)

    worker = threading.Thread(target=go, daemon=True, name=f"rehearse-{pipeline}")
    watch = GateWatch(ledger, str(event["id"]), on_answer, annotation_steps)
    if on_start is not None:
        on_start()
    worker.start()
    deadline = time.monotonic() + timeout
    while worker.is_alive() and time.monotonic() < deadline:
        watch.poll()
        worker.join(0.25)
    if worker.is_alive():
        return RunInfo(True, False, f"the runbook did not finish within {timeout:.0f}s")
    incident = ledger.incidents.find_by_event(str(event["id"]))
    incident_id = incident.id if incident else None
    if errors or not box:
        error = errors[0] if errors else None
        return RunInfo(
            True,
            False,
            f"the runbook crashed: {error or '?'}",
            incident_id,
            infrastructure=_api_failed(error),
        )
    state = box[0]
    if state.is_completed():
        return RunInfo(True, True, f"{compiled.name} completed", incident_id)
    failed_step = _failed_step(ledger, incident_id)
    if failed_step is not None:
        return RunInfo(True, False, failed_step, incident_id)
    return RunInfo(
        True,
        False,
        f"the run ended {state.name} with no step failed: {state.message}",
        incident_id,
        infrastructure=True,
    )


REPLAYED_TRANSITION = "already made this state transition"
"""Prefect's answer to a state change its client sent twice (the first reply was lost, e.g. the
server's database was busy): for a pause, the client raises `Pause` out of the flow although
the run did pause. The API failed the run, not the runbook."""


def _api_failed(error: BaseException | None) -> bool:
    """Whether the run ended because the Prefect API failed, so the cell is played again."""
    if isinstance(error, PrefectHTTPStatusError | httpx.HTTPError):
        return True
    return isinstance(error, Pause) and REPLAYED_TRANSITION in str(error)


def _failed_step(ledger: Ledger, incident_id: int | None) -> str | None:
    """The first failed step and its message, from the ledger; None when no step failed.

    A run that ended without a failed step was not failed by its runbook: the engine around it
    gave way (a Prefect API reply lost under load, a crashed state proposal), so the cell is
    played again rather than judged; a second such ending is judged as it is.
    """
    if incident_id is not None:
        for result in ledger.steps.of_incident(incident_id):
            if result.state == "failed":
                message = (result.result or {}).get("message") or ""
                return f"step {result.step_id} failed: {message}"
    return None
