"""`runbook retry`: a person fixes what the runbook could not; the same incident recovers.

Both stories run on scratch copies (`rehearsal.play.scratch`) with a real portal and the
session's Prefect server; the rehearsal answers approval gates as the `rehearsal` engineer.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from typer.testing import CliRunner

from faults import clear_faults, inject
from flows.events.emit import failure_event_parameter
from foundation.settings import get_settings
from governance.ledger.audit_ledger import Ledger
from rehearsal.recovery import GateWatch, run_recovery
from runbook_cli.main import app
from warehouse.failures import PipelineFailure
from warehouse.runner import run_pipeline

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(600)]
PIPELINE, PARTITION = "aggregate_profit", "2026-03"


def retry_answering_gates(ledger: Ledger, event_id: str, *args: str) -> Any:
    """`runbook retry ...` in this thread while the rehearsal answers gates in another."""
    watch = GateWatch(ledger, event_id)
    done = threading.Event()

    def answer() -> None:
        while not done.wait(0.25):
            watch.poll()

    answering = threading.Thread(target=answer, daemon=True)
    answering.start()
    try:
        return CliRunner().invoke(app, ["retry", *args])
    finally:
        done.set()
        answering.join(10)


def test_a_data_quality_incident_fixed_by_hand_is_retried_to_one_publication(world: Any) -> None:
    platform, ledger, portal = world
    run_pipeline(platform, PIPELINE, PARTITION)
    folder = get_settings().output_dir() / PIPELINE
    clean_report = (folder / f"{PARTITION}.csv").read_bytes()
    clean_feed = json.loads((folder / f"{PARTITION}.feed.json").read_text())
    inject(platform, "data_quality", PIPELINE, PARTITION, "null_critical")
    with pytest.raises(PipelineFailure) as failed:
        run_pipeline(platform, PIPELINE, PARTITION)
    event = failure_event_parameter(failed.value)

    first = run_recovery(PIPELINE, event, ledger, timeout=120)
    assert not first.completed and "quality: critical_not_null" in first.summary
    incident = first.incident_id
    assert incident is not None and ledger.incidents.current_state(incident) == "failed"

    clear_faults(platform, data=True)  # a person corrects the source
    result = retry_answering_gates(
        ledger, event["id"], str(incident), "--as", "C", "--reason", "nulls fixed at the source"
    )
    assert result.exit_code == 0, result.output
    assert f"retrying incident {incident} (data_quality, failed)" in result.output
    assert ledger.incidents.find_by_event(event["id"]).id == incident  # the same incident
    states = [e.state for e in ledger.incidents.events(incident)]
    assert states.count("published") == 1 and ledger.incidents.current_state(incident) == "resolved"
    retried = [e for e in ledger.incidents.events(incident) if e.actor == "C"]
    assert [(e.state, e.detail["reason"]) for e in retried] == [
        ("recovering", "nulls fixed at the source")
    ]
    assert [p.kind for p in ledger.publications.of_incident(incident)] == ["report", "feed"]
    assert [r.version for r in portal.history(PIPELINE, PARTITION, "report").history] == [1]
    assert portal.content(PIPELINE, PARTITION, "report").content == clean_report
    assert portal.content(PIPELINE, PARTITION, "feed").as_json() == clean_feed
    approvers = {
        a.who for r in ledger.approvals.requests(incident) for a in ledger.approvals.answers(r.id)
    }
    assert approvers == {"rehearsal"}  # C retried, so C could not approve


def test_an_approved_report_the_portal_refused_is_republished_without_a_second_approval(
    world: Any,
) -> None:
    platform, ledger, portal = world
    run_pipeline(platform, PIPELINE, PARTITION)
    fault = inject(platform, "report_publishing", PIPELINE, PARTITION)
    event = failure_event_parameter(
        PipelineFailure("report_publishing", PARTITION, "portal answered 503", pipeline=PIPELINE)
    )
    first = run_recovery(PIPELINE, event, ledger, timeout=120)
    assert not first.completed and "the portal did not accept" in first.summary
    incident = first.incident_id
    assert incident is not None and len(ledger.approvals.requests(incident)) == 1

    clear_faults(platform, fault_id=fault.id)  # the portal is back
    result = CliRunner().invoke(app, ["retry", str(incident), "--as", "C"])  # nobody answers
    assert result.exit_code == 0, result.output
    assert len(ledger.approvals.requests(incident)) == 1  # no second gate
    approved = [e for e in ledger.incidents.events(incident) if e.state == "approved"]
    assert approved[-1].detail["reused_from"] == ledger.approvals.requests(incident)[0].flow_run_id
    assert [(p.kind, p.version) for p in ledger.publications.of_incident(incident)] == [
        ("report", 1),
        ("feed", 1),
    ]
    assert len(portal.history(PIPELINE, PARTITION, "report").history) == 1


def test_retry_refuses_an_unknown_or_resolved_incident(world: Any) -> None:
    result = CliRunner().invoke(app, ["retry", "999"])
    assert result.exit_code == 1 and "no incident 999" in result.output
