"""Failures no runbook foresaw, and partitions nobody watches, as an operator lives them.

Each story runs on scratch copies (`rehearsal.play.scratch`: warehouse, ledger, portal over
HTTP) against the session's Prefect server; the rehearsal answers approval gates as the
`rehearsal` engineer.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.events.emit import event_parameter, failure_event_parameter
from flows.events.history import failure_filter
from flows.operations.invariant_sweep import sweep_once
from flows.pipelines import pipeline_flow
from flows.pipelines.crash_report import REPORT_NAME
from flows.runtime.run_services import open_command_services
from foundation.settings import PROJECT_ROOT, get_settings
from governance.config import load_governance
from governance.ledger.audit_ledger import Ledger
from governance.ledger.views import incident_story
from governance.oncall.responders import notify_targets
from rehearsal.play import scratch
from rehearsal.recovery import run_recovery
from rehearsal.workspace import Backend, Template
from testing.served import flow_runs, serving, wait_for
from tests.prefect_servers import postgres_prefect_server
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.logs_storage import day_path
from warehouse.partition_state import read_state
from warehouse.runner import run_pipeline

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(600)]


def published_event(pipeline: str, partition: str, flow_run_id: UUID) -> dict[str, Any]:
    """The `pipeline.failed` event the run sent, read back from Prefect, as a trigger passes it."""
    from prefect.client.orchestration import get_client

    async def read() -> list[Any]:
        since = datetime.now(UTC) - timedelta(minutes=10)
        async with get_client() as client:
            page = await client.read_events(
                filter=failure_filter(pipeline, partition, since, None), limit=50
            )
        return [e for e in page.events if e.payload.get("flow_run_id") == str(flow_run_id)]

    deadline = time.monotonic() + 30  # the server persists events in batches
    while not (found := asyncio.run(read())) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert found, f"no pipeline.failed event of {pipeline} {partition} run {flow_run_id}"
    return event_parameter(found[0])


@contextmanager
def activity_log(platform: Platform, day: date) -> Iterator[Path]:
    """The day's activity log file, this scratch copy's own while the block runs.

    A scratch copy's log files are hard links to the session template's, which every later
    copy (and every rehearsal cell) links to: a write through the link would change them all.
    The file is replaced by a private copy first, and the original put back afterwards.
    """
    path = Path(day_path(platform.config.activity_logs(), day, ".jsonl.gz"))
    original = path.read_bytes()
    path.unlink()
    path.write_bytes(original)
    try:
        yield path
    finally:
        path.unlink()
        path.write_bytes(original)


@contextmanager
def prefect_api(url: str) -> Iterator[None]:
    """This process's Prefect client talks to `url` for the block."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


def deployed(name: str) -> bool:
    from prefect.client.orchestration import get_client

    async def read() -> bool:
        async with get_client() as client:
            try:
                await client.read_deployment_by_name(f"{name}/{name}")
            except Exception:  # not registered yet
                return False
        return True

    return asyncio.run(read())


def running(flow_name: str) -> bool:
    runs = asyncio.run(flow_runs(flow_name))
    return any(r.state is not None and r.state.is_running() for r in runs)


def told(ledger: Ledger, incident_id: int) -> set[str]:
    return {n.recipient for n in ledger.notifications.of_incident(incident_id)}


def test_half_a_json_line_in_an_activity_log_opens_an_incident_tells_people_publishes_nothing(
    world: Any,
) -> None:
    platform, ledger, portal = world
    pipeline, week = "aggregate_growth", "2026-W11"
    flow = pipeline_flow(pipeline)
    assert asyncio.run(flow(partition=week, return_state=True)).is_completed()
    with activity_log(platform, date(2026, 3, 11)) as log:  # a writer cut short
        log.write_bytes(gzip.compress(gzip.decompress(log.read_bytes()) + b'{"user_id": 7, "ty'))
        failed = asyncio.run(flow(partition=week, return_state=True))
        assert failed.is_failed()
        event = published_event(pipeline, week, failed.state_details.flow_run_id)
        detail = event["payload"]["detail"]
        # the check reading the log fails on it (its failing row names file and line)
        assert event["payload"]["kind"] == "data_quality"
        assert "registrations_match_logs" in detail

        recovery = run_recovery(pipeline, event, ledger, timeout=300)
    assert not recovery.completed and recovery.incident_id is not None
    incident = ledger.incidents.get(recovery.incident_id)
    assert (incident.kind, incident.partition) == ("data_quality", week)
    config = load_governance()
    targets = notify_targets(config, pipeline, datetime.now(UTC))
    assert set(config.pipeline(pipeline).owners) | set(targets.first) <= told(ledger, incident.id)
    assert ledger.publications.of_incident(incident.id) == []
    assert portal.history(pipeline, week, "report") is None
    assert read_state(platform.warehouse, pipeline, week).status != "complete"


def test_an_exception_no_classifier_knows_is_reported_as_an_unclassified_failure(
    world: Any,
) -> None:
    from prefect import flow

    from flows.pipelines.failure_report import hooks

    week = "2026-W12"

    @flow(name="pipeline-aggregate_growth", persist_result=False, **hooks())
    def bugged(partition: str) -> None:
        raise RuntimeError("a bug nobody classified")

    failed = bugged(partition=week, return_state=True)
    assert failed.is_failed()
    event = published_event("aggregate_growth", week, failed.state_details.flow_run_id)
    assert event["payload"]["kind"] == "unclassified"
    assert event["payload"]["detail"].startswith("unclassified failure")
    assert "RuntimeError: a bug nobody classified" in event["payload"]["detail"]


def test_an_event_for_a_healthy_neighbour_recovers_nothing_and_the_broken_month_gets_an_incident(
    world: Any,
) -> None:
    platform, ledger, _portal = world
    pipeline = "aggregate_profit"
    run_pipeline(platform, pipeline, "2026-02")
    from faults import inject

    inject(platform, "data_quality", pipeline, "2026-03", "null_critical")
    with pytest.raises(PipelineFailure):  # its event was lost: nobody knows 2026-03 is broken
        run_pipeline(platform, pipeline, "2026-03")
    assert read_state(platform.warehouse, pipeline, "2026-03").status == "quarantined"
    wrong = PipelineFailure("data_quality", "2026-02", "nulls?", pipeline=pipeline)
    event = failure_event_parameter(wrong)

    recovery = run_recovery(pipeline, event, ledger, timeout=300)
    assert recovery.incident_id is not None
    (health,) = [r for r in ledger.steps.of_incident(recovery.incident_id) if r.step_id == "health"]
    assert health.result["outputs"]["healthy"] is True
    assert health.result["outputs"]["not_complete"] == [
        "2026-03 (quarantined: critical_not_null, margin_thresholds)"
    ]
    story = " ".join(f"{s.what} {s.detail}" for s in incident_story(ledger, recovery.incident_id))
    assert "recovered" not in story.lower()
    (ending,) = [e for e in ledger.incidents.events(recovery.incident_id) if e.state == "resolved"]
    assert ending.detail["outcome"] == (
        "healthy — nothing to recover; not complete in aggregate_profit: "
        "2026-03 (quarantined: critical_not_null, margin_thresholds)"
    )

    with open_command_services() as services:
        opened = sweep_once(services, set(), datetime.now(UTC))
        assert sweep_once(services, set(), datetime.now(UTC)) == []  # once, not every pass
    (broken,) = opened
    incident = ledger.incidents.get(broken)
    assert (incident.pipeline, incident.partition, incident.kind) == (
        pipeline,
        "2026-03",
        "data_quality",
    )
    assert ledger.incidents.current_state(broken) == "needs_attention"
    why = ledger.incidents.events(broken)[-1].detail["why"]
    assert "quarantined" in why and "critical_not_null" in why
    config = load_governance()
    assert set(config.pipeline(pipeline).owners) <= told(ledger, broken)


def as_environment(settings: dict[str, Any]) -> dict[str, str]:
    """Flat settings as the `RUNBOOK_*` variables a subprocess reads."""
    return {f"RUNBOOK_{k.upper()}": str(v) for k, v in settings.items() if v is not None}


@pytest.mark.slow  # Prefect's heartbeat floor is 30 s; the watch waits for a missed one
@pytest.mark.postgres
def test_a_sigkilled_pipeline_run_becomes_an_incident_and_people_are_told(
    templates: Callable[[Backend], Template],
) -> None:
    pipeline, week = "aggregate_growth", "2026-W11"
    with (
        postgres_prefect_server("runbook_sigkill") as server,
        scratch(templates("sqlite")) as space,
    ):
        settings = get_settings()
        env = {
            **os.environ,
            **as_environment(space.settings),
            "RUNBOOK_PORTAL_URL": settings.portal.portal_url,
            "RUNBOOK_CRASH_SILENCE_SECONDS": "45",
            "PREFECT_API_URL": server.api_url,
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        runbooks = PROJECT_ROOT / "runbooks"
        with serving(server, runbooks, space.root, extra_env=env) as served:
            with prefect_api(server.api_url):
                wait_for(lambda: deployed(REPORT_NAME), 120, "crash report deployed", served)
            platform = Platform.from_settings(settings)
            with activity_log(platform, date(2026, 3, 11)) as log:  # reading it blocks
                log.unlink()
                os.mkfifo(log)
                job = subprocess.Popen(
                    [sys.executable, "-m", "runbook_cli", "pipeline", "run", pipeline,
                     "--partition", week],
                    cwd=PROJECT_ROOT, env=env, start_new_session=True,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                with prefect_api(server.api_url):
                    wait_for(lambda: running(f"pipeline-{pipeline.replace('_', '-')}"), 120,
                             "pipeline run running", served)  # fmt: skip
                time.sleep(3)  # inside its task, past its first heartbeat
                os.killpg(job.pid, signal.SIGKILL)
                job.wait()
            ledger = Ledger.from_url(settings.audit_url())
            try:
                wait_for(
                    lambda: ledger.keys.open_incident_of(pipeline, week) is not None,
                    300,
                    "an incident for the killed run",
                    served,
                )
                incident = ledger.keys.open_incident_of(pipeline, week)
                assert incident is not None and incident.kind == "unclassified"
                with prefect_api(server.api_url):
                    (run,) = asyncio.run(flow_runs(f"pipeline-{pipeline.replace('_', '-')}"))
                    event = published_event(pipeline, week, run.id)
                assert incident.event_id == event["id"]  # the crash report's event opened it
                first_line = event["payload"]["detail"].splitlines()[0]
                assert "(cut short): Crashed: no heartbeat for 45 s" in first_line
                owners = set(load_governance().pipeline(pipeline).owners)
                wait_for(lambda: owners <= told(ledger, incident.id), 120, "owners told", served)
            finally:
                ledger.dispose()
                platform.dispose()
