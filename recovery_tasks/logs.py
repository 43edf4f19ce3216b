"""Step family `logs`: read the failed job's own Prefect logs for what went wrong."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from pydantic import BaseModel, Field

from recovery_tasks.context import StepContext
from recovery_tasks.params import StepParams
from recovery_tasks.registry import step_type

LOG_ARRIVAL_CHECKS = 5
_FLOW_RUN_RESOURCE = re.compile(r"^prefect\.flow-run\.(?P<id>[0-9a-f-]{36})$")


class ScanJobLogsParams(StepParams):
    """Which run to read: the event's flow run, else the pipeline's latest failed run."""

    flow_run_id: str | None = Field(default=None, description="Failed flow run to read")
    pipeline: str | None = Field(default=None, description="Defaults to the runbook's pipeline")
    limit: int = Field(default=500, ge=1, le=10_000, description="Most log lines to read")


class ScanJobLogsResult(BaseModel):
    """What the logs say."""

    flow_run_id: str | None
    lines_read: int
    extraction_failures: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)

    def evidence(self) -> str:
        """The lines that explain the failure."""
        if not self.flow_run_id:
            return "No failed run of the pipeline was found to read."
        shown = [*self.extraction_failures, *self.errors][:10]
        body = "\n".join(f"    {line}" for line in shown) or "    (no error lines)"
        return f"Read {self.lines_read} lines of flow run `{self.flow_run_id}`:\n\n{body}"


def failed_run_of(event: dict[str, Any]) -> str | None:
    """The flow run a `prefect.flow-run.Failed` (or pipeline.failed) event is about."""
    resource_id = str((event.get("resource") or {}).get("prefect.resource.id", ""))
    match = _FLOW_RUN_RESOURCE.match(resource_id)
    if match:
        return match.group("id")
    payload = event.get("payload") or {}
    return str(payload["flow_run_id"]) if payload.get("flow_run_id") else None


@step_type("logs.scan_job_logs", params=ScanJobLogsParams, result=ScanJobLogsResult)
async def scan_job_logs(params: ScanJobLogsParams, ctx: StepContext) -> ScanJobLogsResult:
    """Read the failed job's logs and pick out extraction failures and errors."""
    from warehouse.job_logs import extraction_failures, latest_failed_run, read_job_logs

    run_id = params.flow_run_id or failed_run_of(ctx.event)
    if run_id is None:
        found = await latest_failed_run(params.pipeline or ctx.pipeline)
        run_id = str(found) if found else None
    if run_id is None:
        return ScanJobLogsResult(flow_run_id=None, lines_read=0)
    lines = await read_job_logs(run_id, params.limit)
    for _ in range(LOG_ARRIVAL_CHECKS):  # a run that just failed may still be shipping its logs
        if lines:
            break
        await asyncio.sleep(1)
        lines = await read_job_logs(run_id, params.limit)
    return ScanJobLogsResult(
        flow_run_id=run_id,
        lines_read=len(lines),
        extraction_failures=[_headline(line.message) for line in extraction_failures(lines)],
        errors=[_headline(line.message) for line in lines if line.level >= 40][:50],
    )


def _headline(message: str) -> str:
    """The first line of a log message (tracebacks stay in the Prefect UI), at most 300 chars."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= 300 else first[:297] + "..."
