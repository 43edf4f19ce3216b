"""One Prefect flow per pipeline, each with three tasks: transform, checks, outputs.

Pipeline flows are named `pipeline-<name>` so they never share a name with the runbook that
recovers them (a log scan by flow name would otherwise read a recovery's logs).
"""

from __future__ import annotations

from typing import Any

from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.context import FlowRunContext

from flows.events.emit import DeliveryError, deliver, failure_event
from warehouse.checks import raise_for_checks, run_checks
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.outputs import write_outputs
from warehouse.pipelines import Pipeline, registry
from warehouse.preflight import preflight
from warehouse.transform import resolve, run_transform


async def emit_pipeline_failed(failure: PipelineFailure, pipeline: str | None = None) -> bool:
    """Deliver `pipeline.failed` for a classified failure of the current flow run.

    The event names the failed run (payload `flow_run_id` and a related resource), so the
    recovery's log scan reads this run's logs. Returns whether the server took it; when it
    did not, the run's log says so (the run fails either way).
    """
    ctx = FlowRunContext.get()
    flow_run_id = ctx.flow_run.id if ctx and ctx.flow_run else None
    event = failure_event(
        failure.pipeline or pipeline or "",
        str(failure.kind),
        failure.partition,
        failure.detail,
        flow_run_id=flow_run_id,
    )
    try:
        await deliver([event], require_server=False)
    except DeliveryError as exc:
        get_run_logger().error("the pipeline.failed event was not delivered: %s", exc)
        return False
    return True


@task(name="transform")
def transform_task(pipeline: str, partition: str) -> dict[str, int]:
    """Preflight the sources, then replace the partition in one transaction."""
    platform = Platform.from_settings()
    pipe, part = resolve(pipeline, partition)
    preflight(platform, pipe, part)
    return run_transform(platform, pipe, part).rows


@task(name="checks")
def checks_task(pipeline: str, partition: str) -> list[dict[str, Any]]:
    """Run every check; publish them as a table artifact; fail on a blocking failure."""
    results = run_checks(Platform.from_settings(), pipeline, partition)
    create_table_artifact(
        key=f"{pipeline.replace('_', '-')}-checks",
        table=[
            {"check": r.name, "passed": r.passed, "kind": str(r.kind), "failing": r.failing_count}
            for r in results
        ],
        description=f"Checks of {pipeline} {partition}",
    )
    raise_for_checks(pipeline, partition, results)
    return [r.as_dict() for r in results]


@task(name="outputs")
def outputs_task(pipeline: str, partition: str) -> dict[str, str]:
    """Write the report CSV and the dashboard feed under the data folder."""
    out = write_outputs(Platform.from_settings(), pipeline, partition)
    return {"report_csv": str(out.report_csv), "dashboard_feed": str(out.dashboard_feed)}


def _make(pipe: Pipeline) -> Flow:
    @flow(
        name=pipe.flow_name,
        flow_run_name=f"{pipe.flow_name}-{{partition}}",
        description=pipe.description,
    )
    async def pipeline_run(partition: str) -> dict[str, Any]:
        logger = get_run_logger()
        try:
            rows = transform_task(pipe.name, partition)
            logger.info("wrote %s rows for %s %s", sum(rows.values()), pipe.name, partition)
            checks_task(pipe.name, partition)
            outputs = outputs_task(pipe.name, partition)
        except PipelineFailure as failure:
            logger.error(
                "pipeline failed: kind=%s partition=%s: %s", failure.kind, partition, failure.detail
            )
            await emit_pipeline_failed(failure, pipe.name)
            raise
        return {"pipeline": pipe.name, "partition": partition, "rows": rows, **outputs}

    return pipeline_run


PIPELINE_FLOWS: dict[str, Flow] = {name: _make(p) for name, p in registry.items()}
"""Pipeline name -> its Prefect flow."""


def pipeline_flow(name: str) -> Flow:
    """The flow of pipeline `name` (hyphens accepted)."""
    from warehouse.pipelines import get_pipeline

    return PIPELINE_FLOWS[get_pipeline(name).name]
