"""The README's main job, end to end: fail, recover, approve, republish, audit."""

from __future__ import annotations

import pytest

from flows.runtime.run_services import open_command_services
from runbook_cli.demo.story import run_demo

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


def test_demo_recovers_a_failed_pipeline_and_republishes_after_approval(
    prefect_server: None,
) -> None:
    said: list[str] = []
    incident_id = run_demo("aggregate_profit", "2026-03", "source_outage", None, None, said.append)
    text = "\n".join(said)
    assert "pipeline.failed: kind=source_outage partition=2026-03" in text
    assert "| ## Approve republishing `aggregate_profit`?" in text
    assert "Counts match." in text
    with open_command_services() as services:
        ledger = services.ledger
        states = [event.state for event in ledger.incidents.events(incident_id)]
        assert (
            states.index("awaiting_approval") < states.index("approved") < states.index("published")
        )
        published = [(p.partition, p.kind) for p in ledger.publications.of_incident(incident_id)]
        assert published == [("2026-03", "report"), ("2026-03", "feed")]
        story = [line.what for line in ledger.incident_story(incident_id)]
        (ending,) = [e for e in ledger.incidents.events(incident_id) if e.state == "resolved"]
    assert "published" in story
    # the source was out when the pipeline re-ran: the failed run is what the runbook recovered
    assert ending.detail["outcome"] == "recovered"
