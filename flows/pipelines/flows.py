"""One Prefect flow per pipeline, each with three tasks: transform, checks, outputs.

The flows are async (no sync-flow heartbeat tail); each task does its database work in a
worker thread, on engines it disposes when it ends. Pipeline flows are named
`pipeline-<name>` so they never share a name with the runbook that recovers them (a log scan
by flow name would otherwise read a recovery's logs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import acreate_table_artifact
from prefect.context import FlowRunContext

from flows.events.emit import DeliveryError, deliver, failure_event
from flows.pipelines.failure_report import hooks
from foundation.engines import EngineCache
from warehouse.checks import CheckResult, raise_for_checks, run_checks
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


@contextmanager
def _platform() -> Iterator[Platform]:
    """The warehouse and source engines of one task, disposed when it ends."""
    with EngineCache() as engines:
        yield Platform.from_settings(engines=engines)


def _transform(pipeline: str, partition: str) -> dict[str, int]:
    with _platform() as platform:
        pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
        preflight(platform, pipe, part)
        return run_transform(platform, pipe, part).rows


def _checks(pipeline: str, partition: str) -> list[CheckResult]:
    with _platform() as platform:
        return run_checks(platform, *resolve(pipeline, partition, platform.config.fiscal_calendar))


def _outputs(pipeline: str, partition: str) -> dict[str, str]:
    with _platform() as platform:
        pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
        out = write_outputs(platform, pipe, part)
    return {"report_csv": str(out.report_csv), "dashboard_feed": str(out.dashboard_feed)}


@task(name="transform")
async def transform_task(pipeline: str, partition: str) -> dict[str, int]:
    """Preflight the sources, then replace the partition in one transaction."""
    return await anyio.to_thread.run_sync(_transform, pipeline, partition)


@task(name="checks")
async def checks_task(pipeline: str, partition: str) -> list[dict[str, Any]]:
    """Run every check; publish them as a table artifact; fail on a blocking failure."""
    results = await anyio.to_thread.run_sync(_checks, pipeline, partition)
    await acreate_table_artifact(
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
async def outputs_task(pipeline: str, partition: str) -> dict[str, str]:
    """Write the report CSV and the dashboard feed under the data folder."""
    return await anyio.to_thread.run_sync(_outputs, pipeline, partition)


def _make(pipe: Pipeline) -> Flow:
    @flow(
        name=pipe.flow_name,
        flow_run_name=f"{pipe.flow_name}-{{partition}}",
        description=pipe.description,
        **hooks(),
    )
    async def pipeline_run(partition: str) -> dict[str, Any]:
        logger = get_run_logger()
        try:
            rows = await transform_task(pipe.name, partition)
            logger.info("wrote %s rows for %s %s", sum(rows.values()), pipe.name, partition)
            await checks_task(pipe.name, partition)
            outputs = await outputs_task(pipe.name, partition)
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
