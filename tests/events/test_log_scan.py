"""The log scan reads the failed pipeline run, never a recovery's, and says when it guessed."""

from __future__ import annotations

import asyncio

import pytest
from prefect import flow

from recovery_tasks.context import StepContext
from recovery_tasks.logs import ScanJobLogsParams, scan_job_logs

pytestmark = pytest.mark.prefect


def _fail(name: str) -> str:
    @flow(name=name)
    def failing() -> None:
        raise RuntimeError(f"{name} broke: connection refused")

    state = failing(return_state=True)
    assert state.is_failed()
    return str(state.state_details.flow_run_id)


def _scan(event: dict) -> object:
    ctx = StepContext(runbook="daily-growth-experiments", pipeline="daily_growth_experiments",
                      step_id="scan_logs", event=event)  # fmt: skip
    return asyncio.run(scan_job_logs(ScanJobLogsParams(), ctx))


def test_without_a_run_id_it_reads_the_pipeline_flow_and_says_it_guessed(
    prefect_server: None,
) -> None:
    pipeline_run = _fail("pipeline-daily-growth-experiments")
    _fail("daily-growth-experiments")  # a recovery run of the same name as the pipeline, later
    result = _scan({"event": "pipeline.failed", "payload": {"partition": "2026-10-14"}})
    assert result.flow_run_id == pipeline_run
    assert result.source == "latest_failed_run"
    assert "names no flow run" in result.note and "may not be the one" in result.note
    assert result.evidence().startswith("> ⚠️ The failure event names no flow run")


def test_with_the_events_run_id_it_reads_that_run(prefect_server: None) -> None:
    named = _fail("pipeline-daily-growth-experiments")
    _fail("pipeline-daily-growth-experiments")
    result = _scan({"event": "pipeline.failed", "payload": {"flow_run_id": named}})
    assert (result.flow_run_id, result.source, result.note) == (named, "event", None)
