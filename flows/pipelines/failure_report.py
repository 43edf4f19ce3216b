"""Every pipeline run that ends Failed or Crashed reports itself, classified or not.

A classified failure (`PipelineFailure`) is reported by the flow body with its kind. Anything
else (an exception no classifier knows, such as half a JSON line in an activity log, a bug, a
driver error, a SIGTERM) used to end the run with no event: no incident, nobody told. These
state hooks (`on_failure`, `on_crashed`) close that gap with a `pipeline.failed` event of
kind `unclassified`, carrying the exception, the step that raised it and the tail of the
run's log as its detail, so the recovery's door, the incident and the people see them.
A process killed outright runs no hook: `flows.pipelines.crash_report` covers that case.
"""

from __future__ import annotations

import time
import traceback
from typing import Any
from uuid import UUID

import anyio
from prefect import Flow
from prefect.client.schemas.objects import FlowRun
from prefect.logging import get_logger
from prefect.logging.handlers import APILogHandler
from prefect.states import State

from flows.events.emit import DeliveryError, deliver, failure_event
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.job_logs import read_job_logs

LOG_TAIL = 12  # log lines of the run kept in the event's detail
TRACE_TAIL = 8  # traceback lines kept
ENDED_BADLY = ("FAILED", "CRASHED")
CUT_SHORT = ("RUNNING", "PENDING")  # a task the killed process never finished
STATES_SETTLE = 5.0  # seconds the hook waits for the failed task's state to reach the API
logger = get_logger("pipelines.failure_report")


async def report_unclassified(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """State hook: deliver `pipeline.failed` (kind `unclassified`) unless the body reported."""
    error = await _exception(state)
    if isinstance(error, PipelineFailure):
        return  # the flow body delivered the classified event already
    step = await failed_step(flow_run.id, settle_seconds=STATES_SETTLE)
    detail = await unclassified_detail(flow_run.id, state, error, step)
    await report(flow.name, flow_run, detail)


async def report(flow_name: str, flow_run: FlowRun, detail: str) -> None:
    """Deliver `pipeline.failed` (kind `unclassified`) for a run of pipeline flow `flow_name`."""
    pipeline = flow_name.removeprefix("pipeline-").replace("-", "_")
    partition = str((flow_run.parameters or {}).get("partition", ""))
    event = failure_event(
        pipeline, FailureKind.UNCLASSIFIED, partition, detail, flow_run_id=flow_run.id
    )
    try:
        await deliver([event], require_server=False)
    except DeliveryError as exc:
        logger.error("the unclassified pipeline.failed event was not delivered: %s", exc)


async def _exception(state: State) -> BaseException | None:
    """The exception the state holds (None when it holds none, e.g. a crash by signal)."""
    try:
        found = await state.aresult(raise_on_failure=False)
    except BaseException as exc:  # a crashed state may raise its cause when read
        return exc
    return found if isinstance(found, BaseException) else None


async def failed_step(flow_run_id: UUID, settle_seconds: float = 0.0) -> str:
    """The name of the task that failed or crashed in the run, else the one cut short, else
    the flow itself. Task states reach the API a moment after the task ends (as events):
    `settle_seconds` waits that long for a task still shown running to end."""
    deadline = time.monotonic() + settle_seconds
    while True:
        tasks = await _task_runs(flow_run_id)
        ended = [t for t in tasks if t.state is not None and t.state.type.value in ENDED_BADLY]
        cut = [t for t in tasks if t.state is not None and t.state.type.value in CUT_SHORT]
        if ended:
            return _step_name(ended[-1].name)
        if not cut or time.monotonic() >= deadline:
            break
        await anyio.sleep(0.25)
    return f"{_step_name(cut[-1].name)} (cut short)" if cut else "the flow itself"


async def _task_runs(flow_run_id: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        return await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def _step_name(task_run_name: str) -> str:
    return task_run_name.rsplit("-", 1)[0]  # `checks-c7a`: the task and a run suffix


async def unclassified_detail(
    flow_run_id: UUID, state: State, error: BaseException | None, step: str
) -> str:
    """What an operator needs first: the exception, the step, the traceback's end, the log's."""
    what = f"{type(error).__name__}: {error}" if error else f"{state.name}: {state.message}"
    lines = [f"unclassified failure in step {step}: {what}"]
    if error is not None and error.__traceback__ is not None:
        trace = traceback.format_exception(error)
        lines += ["--- traceback (end) ---", *"".join(trace).splitlines()[-TRACE_TAIL:]]
    lines += ["--- log (end) ---", *await _log_tail(flow_run_id)]
    return "\n".join(lines)


async def _log_tail(flow_run_id: UUID) -> list[str]:
    try:
        await APILogHandler.aflush()  # the run's last lines are still in the batch
        logs = await read_job_logs(flow_run_id)
    except Exception as exc:  # evidence is best effort; the event matters more
        return [f"(the run's log could not be read: {type(exc).__name__})"]
    return [f"{line.timestamp:%H:%M:%S} {line.message}" for line in logs[-LOG_TAIL:]]


def hooks() -> dict[str, Any]:
    """The keyword arguments giving a pipeline flow its failure and crash hooks."""
    return {"on_failure": [report_unclassified], "on_crashed": [report_unclassified]}
