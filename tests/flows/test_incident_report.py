"""`runbook report` and the weekly artifact on a ledger filled by running recoveries.

Recoveries of three pipelines and four failure kinds run on the Prefect test server with the
real approval gate (answered as engineers would: refused, approved, rejected), one escalation
is run by the escalation flow, and a stand-in for the portal records the republication; then
the report prints the figures and the weekly flow publishes them as a markdown artifact.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from flows.events.emit import failure_event
from flows.language.catalog import load_catalog
from flows.language.validator import validate_text
from flows.operations.escalation_flow import escalate_approval
from flows.operations.weekly_report import ARTIFACT_KEY, weekly_incident_report
from flows.runtime.compiler import compile_runbook
from flows.runtime.prefect_client import prefect_client_context
from foundation.settings import temporary_settings
from recovery_tasks.context import StepContext
from recovery_tasks.registry import step_type
from runbook_cli.main import app
from tests.approval.conftest import GatedRun, _find_run, wait_until_paused
from tests.governance.conftest import migrated_ledger

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


class RepublishParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partition: str


class RepublishResult(BaseModel):
    receipt: str


@step_type("test.republish", params=RepublishParams, result=RepublishResult, role="publish")
def republish(params: RepublishParams, ctx: StepContext) -> RepublishResult:
    """Stand in for the investor portal: record the receipt as `publish.investor_portal` does."""
    receipt = f"receipt-{ctx.incident['id']}"
    assert ctx.run.recorder.keeps_story
    recorder = ctx.run.recorder
    recorder.ledger.publications.record(
        recorder.incident_id, ctx.pipeline, params.partition, "report", receipt, "0" * 64
    )
    ctx.run.recorder.state("published", detail={"receipt": receipt})
    return RepublishResult(receipt=receipt)


GATED = """
runbook: {name}
pipeline: {pipeline}
steps:
  - id: counts
    uses: test.add
    with: {{a: 40, b: 2}}
  - id: approve
    uses: approval.on_call
    needs: [counts]
    timeout: 5m
    with: {{approvers: [A, B], poll_interval: 1}}
  - id: publish
    uses: test.republish
    needs: [approve]
    with: {{partition: "{partition}"}}
"""
PLAIN = """
runbook: {name}
pipeline: {pipeline}
steps:
  - id: rerun
    uses: {uses}
    with: {with_}
"""


PARTITIONS = {  # one partition in each pipeline's grain
    "aggregate_profit": "2026-10",
    "aggregate_growth": "2026-W43",
    "unit_profit_experiments": "2026-10-14",
}


def event(pipeline: str, kind: str, seconds_ago: int) -> dict[str, Any]:
    """The failure event as the pipeline emits it, `seconds_ago` in the past."""
    emitted = failure_event(pipeline, kind, PARTITIONS[pipeline]).model_dump(mode="json")
    emitted["occurred"] = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()
    return emitted


def start(text: str, name: str, failure: dict[str, Any]) -> GatedRun:
    """Run a runbook in a background thread, as a triggered deployment run would."""
    compiled = compile_runbook(validate_text(text, f"{name}.yaml", load_catalog()))
    run = GatedRun(name, Path("-"), threading.Thread(daemon=True, target=lambda: None))

    def go() -> None:
        with prefect_client_context():
            run.result.append(asyncio.run(compiled.flow(event=failure, return_state=True)))

    run.thread = threading.Thread(target=go, daemon=True)
    run.thread.start()
    run.flow_run_id = _find_run(name)
    return run


def gated(pipeline: str, kind: str, seconds_ago: int) -> GatedRun:
    name = f"report-{uuid.uuid4().hex[:8]}"
    text = GATED.format(name=name, pipeline=pipeline, partition=PARTITIONS[pipeline])
    return start(text, name, event(pipeline, kind, seconds_ago))


def plain(pipeline: str, kind: str, uses: str, with_: str) -> GatedRun:
    name = f"report-{uuid.uuid4().hex[:8]}"
    text = PLAIN.format(name=name, pipeline=pipeline, uses=uses, with_=with_)
    return start(text, name, event(pipeline, kind, 30))


@pytest.fixture
def audit_url(tmp_path: Path) -> Iterator[str]:
    """A ledger of this test's own, used by the runs, the commands and the weekly flow."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    migrated_ledger(url).dispose()
    with temporary_settings(audit_url=url):
        yield url


def test_the_report_of_recoveries_prints_the_figures_and_the_weekly_artifact_holds_them(
    prefect_server: None, audit_url: str
) -> None:
    approved = gated("aggregate_profit", "data_quality", seconds_ago=120)
    refused = approved.answer("C", comment="not mine to approve")
    assert refused is not None and not refused.accepted
    assert approved.answer("A", comment="counts match").accepted  # type: ignore[union-attr]
    assert approved.final_state().is_completed()

    rejected = gated("aggregate_profit", "data_quality", seconds_ago=60)
    assert rejected.answer("B", "reject", "margins look wrong") is not None
    assert not rejected.final_state().is_completed()

    escalated = gated("aggregate_growth", "source_outage", seconds_ago=90)
    wait_until_paused(escalated.flow_run_id)
    outcome = asyncio.run(
        escalate_approval(
            flow_run_id=escalated.flow_run_id, targets=["D", "C"], unanswered_for_seconds=1800
        )
    )
    assert outcome["skipped"] is None
    assert len(outcome["undelivered"]) == 2  # e-mail contacts, and no SMTP server here
    assert escalated.answer("A").accepted  # type: ignore[union-attr]
    assert escalated.final_state().is_completed()

    late = plain("unit_profit_experiments", "late_arriving_data", "test.add", "{a: 1, b: 2}")
    assert late.final_state().is_completed()
    broken = plain("unit_profit_experiments", "etl_job_failure", "test.fail", "{message: boom}")
    assert not broken.final_state().is_completed()

    out = CliRunner().invoke(app, ["report", "--since", "1d", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = {(r["pipeline"], r["kind"]): r for r in json.loads(out.output)["rows"]}
    assert list(rows) == [
        ("aggregate_growth", "source_outage"),
        ("aggregate_profit", "data_quality"),
        ("unit_profit_experiments", "etl_job_failure"),
        ("unit_profit_experiments", "late_arriving_data"),
        ("(all)", "(all)"),
    ]
    quality = rows["aggregate_profit", "data_quality"]
    assert (quality["incidents"], quality["refused_answers"], quality["rejections"]) == (2, 1, 1)
    assert quality["sla"] == {"met": 1, "missed": 0, "open": 1}
    times = quality["seconds_from_failure"]
    assert 60 <= times["detect"]["median"] <= times["detect"]["worst"] <= 180  # failed 1-2 min ago
    for later, earlier in (("evidence", "detect"), ("first_answer", "evidence"),
                           ("approval", "evidence"), ("republish", "approval")):  # fmt: skip
        assert times[later]["worst"] >= times[earlier]["median"], (later, times)
    growth = rows["aggregate_growth", "source_outage"]
    assert (growth["escalations"], growth["sla"]["met"]) == (1, 1)
    assert rows["unit_profit_experiments", "late_arriving_data"]["sla"]["met"] == 1
    assert rows["unit_profit_experiments", "etl_job_failure"]["sla"]["open"] == 1
    assert rows["(all)", "(all)"]["incidents"] == 5

    table = CliRunner().invoke(app, ["report", "--since", "1d"]).output
    assert any(line.split()[:3] == ["aggregate_profit", "data_quality", "2"]
               for line in table.splitlines())  # fmt: skip

    asyncio.run(weekly_incident_report(days=1))

    async def artifacts() -> list[Any]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY]))
            )

    [artifact] = asyncio.run(artifacts())
    assert artifact.type == "markdown"
    assert "| aggregate_profit | data_quality | 2 |" in artifact.data
    assert "| **(all)** | **(all)** | **5** |" in artifact.data
