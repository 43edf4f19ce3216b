"""A pipeline run whose process was killed outright still becomes an incident.

A SIGKILL, an OOM kill or a lost machine runs no state hook, and the run would stay Running
forever. Pipeline runs send heartbeats (`PREFECT_FLOWS_HEARTBEAT_FREQUENCY`, set by `runbook
pipeline run`; set it wherever pipeline flows run); the *pipeline crash watch*, a Prefect
automation like the runbooks' crash watch, marks a pipeline run Crashed when they stop. The
Crashed state then triggers the `pipeline-crash-report` deployment, which sends the
`pipeline.failed` event (kind `unclassified`: the step that was cut short, the state's
message and the end of the run's log) unless the run reported itself (an `on_crashed` hook
that did run). The event starts the pipeline's runbook like any other failure.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.automations import Automation
from prefect.client.orchestration import get_client

from flows.events.history import failure_filter
from flows.operations.crash_watch import silence_watch
from flows.pipelines.failure_report import failed_step, report, unclassified_detail
from warehouse.pipelines import registry

WATCH_NAME = "pipeline-crash-watch"
REPORT_NAME = "pipeline-crash-report"


def pipeline_flow_names() -> list[str]:
    """The Prefect flow names of the pipelines (`pipeline-<name>`)."""
    return sorted(p.flow_name for p in registry.values())


def pipeline_crash_watch(silence_seconds: int) -> Automation:
    """The automation marking a pipeline run Crashed when its heartbeats stop."""
    return silence_watch(
        WATCH_NAME,
        "Mark a pipeline run Crashed when its heartbeats stop (its process is gone)",
        {"prefect.resource.role": "flow", "prefect.resource.name": pipeline_flow_names()},
        silence_seconds,
    )


def crash_trigger_fields() -> dict[str, Any]:
    """The report's trigger: a pipeline flow run entered Crashed."""
    return {
        "name": "pipeline run crashed",
        "expect": ["prefect.flow-run.Crashed"],
        "match_related": {
            "prefect.resource.role": "flow",
            "prefect.resource.name": pipeline_flow_names(),
        },
        "parameters": {"flow_run": "{{ event.resource.id }}"},
    }


@flow(name=REPORT_NAME, persist_result=False)
async def pipeline_crash_report(flow_run: str) -> str:
    """Send the `pipeline.failed` event a crashed pipeline run could not send itself."""
    run_id = UUID(flow_run.removeprefix("prefect.flow-run."))
    async with get_client() as client:
        run = await client.read_flow_run(run_id)
        flow_name = (await client.read_flow(run.flow_id)).name
    if run.state is None or not run.state.is_crashed():
        return f"run {run_id} is no longer Crashed: nothing to report"
    if await _reported(flow_name, run):
        return f"run {run_id} reported its failure itself"
    detail = await unclassified_detail(run_id, run.state, None, await failed_step(run_id))
    await report(flow_name, run, detail)
    get_run_logger().info("reported crashed pipeline run %s", run_id)
    return f"reported crashed pipeline run {run_id}"


async def _reported(flow_name: str, run: Any) -> bool:
    """Whether a `pipeline.failed` event names this run already."""
    pipeline = flow_name.removeprefix("pipeline-").replace("-", "_")
    partition = str((run.parameters or {}).get("partition", ""))
    since = (run.start_time or run.created) - timedelta(seconds=1)
    async with get_client() as client:
        page = await client.read_events(
            filter=failure_filter(pipeline, partition, since, None),  # type: ignore[arg-type]
            limit=50,
        )
    return any(e.payload.get("flow_run_id") == str(run.id) for e in page.events)
