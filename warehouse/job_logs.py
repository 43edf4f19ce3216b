"""Job logs: the pipelines' own Prefect flow-run logs, read back through the client.

Recovery's first step ("check job logs for extraction failures") reads the failed run the
failure event names and picks out the lines that explain it. An event without a run id can
only be matched to the pipeline flow's latest failed run (found by the pipeline flow's own
name, `pipeline-<name>`, which no runbook flow shares): a guess the scan reports as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from warehouse.pipelines import get_pipeline

EXTRACTION_PATTERN = re.compile(
    r"source_outage|schema_drift|cannot be reached|source schema changed|connection|timeout",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LogLine:
    """One log record of a flow run."""

    timestamp: datetime
    level: int
    message: str


async def read_job_logs(flow_run_id: UUID | str, limit: int = 500) -> list[LogLine]:
    """The logs of one flow run, oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    flt = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(str(flow_run_id))]))
    logs: list = []
    async with get_client() as client:
        while len(logs) < limit:  # the API serves at most 200 records a page
            page = await client.read_logs(
                log_filter=flt, limit=min(200, limit - len(logs)), offset=len(logs),
                sort=LogSort.TIMESTAMP_ASC,
            )  # fmt: skip
            logs += page
            if len(page) < 200:
                break
    return [LogLine(log.timestamp, log.level, log.message) for log in logs]


async def latest_failed_run(pipeline: str) -> UUID | None:
    """The id of the pipeline flow's most recent failed run, if any (never a recovery's run)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[get_pipeline(pipeline).flow_name])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.FAILED]))
            ),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
    return runs[0].id if runs else None


def extraction_failures(lines: list[LogLine]) -> list[LogLine]:
    """The lines that point at an extraction problem (source outage or schema change)."""
    return [line for line in lines if EXTRACTION_PATTERN.search(line.message)]
