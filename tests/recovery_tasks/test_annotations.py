"""A real 40% MAU swing, explained by a person: from the annotation gate's form and from
`runbook annotate`. The swing fails the check; the annotation is recorded in the warehouse and
the ledger, the check re-runs and passes, the report's feed carries the note to the portal,
and `runbook audit` says who annotated and why."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from portal.client import PortalClient
from recovery_tasks.annotations import AnnotateParams, annotate_gate
from recovery_tasks.checks import DataQualityParams, data_quality
from recovery_tasks.context import StepOutcome
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.publish import investor_portal
from recovery_tasks.services import RunServices
from runbook_cli.main import app
from tests.engagement_swing import raise_mau_over_previous
from tests.recovery_tasks.conftest import step_ctx
from tests.recovery_tasks.test_publish_pinned import (  # noqa: F401  (shared fixtures)
    PARTITION,
    PIPELINE,
    TOKEN,
    approved_ctx,
    pinned,
    portal,
    report_of,
    run,
)
from warehouse.partition_state import read_state
from warehouse.runner import run_pipeline

NOTE = "spring campaign launched on 2 March: MAU up 40%"


@pytest.fixture
def swing(run: RunServices) -> Iterator[RunServices]:  # noqa: F811
    """2026-03's MAU 40% above February's, with an open incident for the partition."""
    platform = run.platform()
    run_pipeline(platform, PIPELINE, "2026-02", run.output_dir)
    raise_mau_over_previous(platform, PARTITION, "2026-02", 1.4)
    yield run
    with platform.warehouse.begin() as conn:
        conn.execute(text("DELETE FROM annotations"))
    run_pipeline(platform, PIPELINE, "2026-02", run.output_dir)
    run_pipeline(platform, PIPELINE, PARTITION, run.output_dir)


def _incident(services: RunServices) -> int:
    opening = services.ledger.keys.open_or_attach(
        PIPELINE, PARTITION, "data_quality", datetime.now(UTC), runbook="aggregate-engagement"
    )
    return opening.incident.id


def _quality(services: RunServices) -> dict[str, Any]:
    params = DataQualityParams(partition=PARTITION, annotatable=["no_unannotated_swing"])
    result = data_quality(params, step_ctx(services, PIPELINE, step_id="quality"))
    return result.model_dump(mode="json")


def _state(services: RunServices) -> str:
    with services.platform().warehouse.connect() as conn:
        return read_state(conn, PIPELINE, PARTITION).status


def test_a_forty_percent_swing_fails_the_check_and_only_waits_for_an_annotation(
    swing: RunServices,
) -> None:
    with pytest.raises(TerminalStepError, match="no_unannotated_swing"):
        data_quality(DataQualityParams(partition=PARTITION), step_ctx(swing, PIPELINE))
    outputs = _quality(swing)
    assert outputs["passed"] is False and outputs["needs_annotation"] == ["no_unannotated_swing"]
    swing_rows = next(c for c in outputs["checks"] if c["name"] == "no_unannotated_swing")
    assert round(swing_rows["failing_rows"][0]["change"], 2) == 0.4
    assert _state(swing) == "quarantined"


def test_annotated_from_the_gates_form_the_run_publishes_with_the_note(
    swing: RunServices,
    portal: Any,  # noqa: F811
) -> None:
    incident = _incident(swing)
    quality = _quality(swing)
    asked: list[str] = []

    async def gate(params: Any, ctx: Any) -> Any:  # the form's answer: approve, note as comment
        asked.append(ctx.step_id)
        return SimpleNamespace(approvers=["A"], comments=[NOTE])

    ctx = step_ctx(
        dataclasses.replace(swing, gate=gate), PIPELINE, step_id="annotate",
        steps={"quality": StepOutcome("completed", outputs=quality)},
        uses={"quality": "checks.data_quality", "annotate": "approval.annotate"},
        params={"partition": PARTITION},
    )  # fmt: skip
    ctx.incident["id"] = incident
    result = anyio.run(annotate_gate, AnnotateParams(), ctx)
    assert asked == ["annotate"]
    assert (result.annotators, result.notes) == (["A"], [NOTE])
    assert "no_unannotated_swing annotated by A" in result.evidence()
    assert _state(swing) == "complete"  # the check ran again and passed
    _publishes_with_the_note(swing, portal)
    _audit_shows_the_annotation(swing, incident, "A")


def test_annotated_from_the_command_line_by_an_authorized_engineer(
    swing: RunServices,
    portal: Any,  # noqa: F811
) -> None:
    incident = _incident(swing)
    _quality(swing)
    refused = CliRunner().invoke(
        app, ["annotate", PIPELINE, PARTITION, "--note", NOTE, "--as", "nobody"]
    )
    assert refused.exit_code == 1
    assert "'nobody' may not annotate aggregate_engagement" in refused.stderr
    done = CliRunner().invoke(app, ["annotate", PIPELINE, PARTITION, "--note", NOTE, "--as", "D"])
    assert done.exit_code == 0, done.output
    assert "local profile: 'D' is taken as typed and not verified" in done.stdout
    assert f"annotated {PIPELINE} {PARTITION} as D on incident {incident}" in done.stdout
    assert f"checks pass: the partition is complete; run `runbook retry {incident}`" in (
        done.stdout
    )
    assert _state(swing) == "complete"
    assert _quality(swing)["needs_annotation"] == []  # a retried run goes straight through
    _publishes_with_the_note(swing, portal, "D")
    _audit_shows_the_annotation(swing, incident, "D")


def test_an_answer_without_a_note_annotates_nothing(swing: RunServices) -> None:
    quality = _quality(swing)

    async def gate(params: Any, ctx: Any) -> Any:
        return SimpleNamespace(approvers=["A"], comments=[""])

    ctx = step_ctx(
        dataclasses.replace(swing, gate=gate), PIPELINE, step_id="annotate",
        steps={"quality": StepOutcome("completed", outputs=quality)},
        params={"partition": PARTITION},
    )  # fmt: skip
    with pytest.raises(TerminalStepError, match="the answer carried no note"):
        anyio.run(annotate_gate, AnnotateParams(), ctx)
    assert _state(swing) == "quarantined"


def _publishes_with_the_note(services: RunServices, server: Any, author: str = "A") -> None:
    report = report_of(services)
    feed = json.loads(Path(report.feed_path).read_text())
    assert feed["notes"] == [{"author": author, "note": NOTE}]
    investor_portal(pinned(report), approved_ctx(services, report))
    with PortalClient(server.url, TOKEN) as client:
        stored = client.content(PIPELINE, PARTITION, "feed")
    assert stored is not None
    assert json.loads(stored.content)["notes"] == [{"author": author, "note": NOTE}]


def _audit_shows_the_annotation(services: RunServices, incident: int, author: str) -> None:
    story = CliRunner().invoke(app, ["audit", str(incident)])
    assert story.exit_code == 0, story.output
    assert f"annotated              by {author}; partition={PARTITION}, note={NOTE}" in (
        story.stdout
    )
    report = CliRunner().invoke(app, ["audit", str(incident), "--markdown"])
    assert report.exit_code == 0, report.output
    assert "## Annotations" in report.stdout
    assert f'{author} (identified by the name as typed, local profile): "{NOTE}"' in report.stdout
