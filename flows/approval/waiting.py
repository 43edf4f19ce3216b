"""How a gate waits for one answer: suspended (its process freed) or paused in its process.

A run of a deployment that records its story is *suspended* (`suspend_flow_run`): the
process exits, so a gate waiting for hours costs no memory; the answer reschedules the run,
the runner (`runbook serve`, or a worker) starts it again from the top, the execution
restores the steps this run already completed from the ledger (`flows.runtime.restore`)
and the gate replays the answers it recorded, then asks Prefect for this pause's answer:
a pause key that already fired returns its answer at once instead of suspending again.

A run without a deployment (`runbook run`, a test calling the flow) cannot be rescheduled,
so it *pauses* in its process and polls for the answer every `poll_interval` seconds (1 by
default: the approval reaches the next step within about a second).
"""

from __future__ import annotations

from typing import Any

from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from pydantic import ValidationError

from flows.approval.answer import ApprovalAnswer


def can_suspend(records_story: bool) -> bool:
    """Whether this run may leave its process while it waits.

    It needs a deployment (something must start it again) and a ledger story (what it did
    before the gate is restored from there instead of being done twice).
    """
    context = FlowRunContext.get()
    run = context.flow_run if context else None
    return records_story and run is not None and run.deployment_id is not None


async def wait_for_answer(
    form: type[ApprovalAnswer], *, key: str, timeout: int, poll_interval: int, suspend: bool
) -> Any:
    """The answer given to the pause `key`; None once `timeout` seconds passed without one.

    Suspending raises Prefect's `Pause` signal (the process ends here); the run comes back
    to this line, in a new process, when someone answers.
    """
    try:
        if suspend:
            return await suspend_flow_run(wait_for_input=form, timeout=timeout, key=key)
        return await pause_flow_run(
            wait_for_input=form, timeout=timeout, poll_interval=poll_interval, key=key
        )
    except FlowPauseTimeout:
        return None
    except ValidationError as empty:
        # The pause `key` fired before, but no answer is stored under it: the run left its
        # suspension without one (a forced state, a crash retried by the incident sync).
        raise AnswerLostError(key) from empty


class AnswerLostError(Exception):
    """A pause was left without an answer on record: the gate must ask again, under a new
    key (Prefect never pauses twice on one key)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"pause {key} ended without an answer on record; asking again")
        self.key = key
