"""A genuine 40% MAU jump, end to end on scratch copies with a real portal and Prefect server.

The swing fails the engagement check; the recovery pauses at its annotation gate. From the
gate's form: A approves with the note, the checks pass, D approves the report, and the portal
holds a feed whose notes carry A's words. From the terminal: the annotation gate is rejected,
A runs `runbook annotate`, `runbook retry` recovers and publishes with the note. Either way
`runbook audit` says who annotated and why.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from prefect.input.run_input import keyset_from_paused_state
from typer.testing import CliRunner

from flows.approval.answering import AnswerError, answer_gate
from flows.events.emit import failure_event_parameter
from flows.runtime.compiler import compile_runbook
from governance.ledger.audit_ledger import Ledger
from rehearsal.recovery import runbook_for
from runbook_cli.main import app
from tests.approval.conftest import flow_run_state, run_input
from tests.engagement_swing import raise_mau_over_previous
from warehouse.failures import PipelineFailure
from warehouse.runner import run_pipeline, validate_partition

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(600)]
PIPELINE, PARTITION = "aggregate_engagement", "2026-03"
NOTE = "spring campaign launched on 2 March: MAU up 40%"


def _swing(platform: Any) -> dict[str, Any]:
    """February's MAU set so March is 40% above it; the failure event the check raises."""
    run_pipeline(platform, PIPELINE, "2026-02")
    run_pipeline(platform, PIPELINE, PARTITION)
    raise_mau_over_previous(platform, PARTITION, "2026-02", 1.4)
    with pytest.raises(PipelineFailure, match="no_unannotated_swing") as failed:
        validate_partition(platform, PIPELINE, PARTITION)
    return failure_event_parameter(failed.value)


@contextmanager
def answering(
    ledger: Ledger, event_id: str, answers: dict[str, tuple[str, str, str]]
) -> Iterator[dict[str, str]]:
    """Answer each gate of the incident as `answers[step id]` says (who, decision, comment);
    yields the evidence each gate showed, by step id."""
    done = threading.Event()
    evidence: dict[str, str] = {}

    def poll() -> None:
        answered: set[int] = set()
        while not done.wait(0.25):
            incident = ledger.incidents.find_by_event(event_id)
            for request in ledger.approvals.requests(incident.id) if incident else []:
                if request.id in answered or request.step_id not in answers:
                    continue
                who, decision, comment = answers[request.step_id]
                try:
                    evidence[request.step_id] = _evidence(request.flow_run_id)
                    asyncio.run(answer_gate(request.flow_run_id, who, decision, comment, ledger))
                except AnswerError:
                    continue  # not paused yet
                answered.add(request.id)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield evidence
    finally:
        done.set()
        thread.join(10)


def _evidence(flow_run_id: str) -> str:
    """The description above the paused run's Resume form (AnswerError until it is paused)."""
    state = flow_run_state(flow_run_id)
    if state is None or not state.is_paused():
        raise AnswerError("not paused yet")
    key = keyset_from_paused_state(state)["description"]
    return str(run_input(flow_run_id, key))


def _recover(event: dict[str, Any]) -> Any:
    compiled = compile_runbook(runbook_for(PIPELINE))
    context = contextvars.copy_context()
    return context.run(asyncio.run, compiled.flow(event=event, return_state=True))


def _published_notes(portal: Any) -> list[dict[str, str]]:
    return portal.content(PIPELINE, PARTITION, "feed").as_json().get("notes", [])


def _audit(incident: int) -> str:
    story = CliRunner().invoke(app, ["audit", str(incident)])
    assert story.exit_code == 0, story.output
    return story.stdout


def test_annotated_from_the_gates_form_the_recovery_publishes_with_the_note(world: Any) -> None:
    platform, ledger, portal = world
    event = _swing(platform)
    answers = {"annotate": ("A", "approve", NOTE), "approve": ("D", "approve", "numbers match")}
    with answering(ledger, event["id"], answers) as evidence:
        final = _recover(event)
    assert final.is_completed(), final.message
    assert "## Annotate the swing in `aggregate_engagement`?" in evidence["annotate"]
    assert "no_unannotated_swing" in evidence["annotate"]  # the failing check and its rows
    assert f"no_unannotated_swing annotated by A: “{NOTE}”" in evidence["approve"]
    assert f'"note": "{NOTE}"' in evidence["approve"]  # the feed the approver sees
    incident = ledger.incidents.find_by_event(event["id"]).id
    assert ledger.incidents.current_state(incident) == "resolved"
    assert _published_notes(portal) == [{"author": "A", "note": NOTE}]
    annotated = [e for e in ledger.incidents.events(incident) if e.state == "annotated"]
    assert [(e.actor, e.detail["note"]) for e in annotated] == [("A", NOTE)]
    assert f"annotated              by A; partition={PARTITION}, note={NOTE}" in _audit(incident)


def test_annotated_from_the_command_line_then_retried_to_one_publication(world: Any) -> None:
    platform, ledger, portal = world
    event = _swing(platform)
    with answering(ledger, event["id"], {"annotate": ("D", "reject", "not without a reason")}):
        first = _recover(event)
    assert not first.is_completed()
    incident = ledger.incidents.find_by_event(event["id"]).id
    assert portal.content(PIPELINE, PARTITION, "feed") is None  # nothing published

    annotated = CliRunner().invoke(
        app, ["annotate", PIPELINE, PARTITION, "--note", NOTE, "--as", "A"]
    )
    assert annotated.exit_code == 0, annotated.output
    assert f"on incident {incident}" in annotated.stdout
    with answering(ledger, event["id"], {"approve": ("D", "approve", "numbers match")}):
        retried = CliRunner().invoke(app, ["retry", str(incident), "--as", "A"])
    assert retried.exit_code == 0, retried.output
    assert ledger.incidents.current_state(incident) == "resolved"
    assert _published_notes(portal) == [{"author": "A", "note": NOTE}]
    assert f"annotated              by A; partition={PARTITION}, note={NOTE}" in _audit(incident)
