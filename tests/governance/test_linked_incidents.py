"""A run publishing another pipeline works on that partition's incident, linked to its own."""

from __future__ import annotations

from datetime import UTC, datetime

from governance.incidents.linked import LinkedStory, publication_story, tell_published
from governance.incidents.recorder import IncidentRecorder
from governance.ledger.audit_ledger import Ledger
from governance.ledger.records import IncidentState
from governance.models import GovernanceConfig
from governance.reporting.postmortem import post_incident_markdown

FAILURE = {
    "id": "ev-profit",
    "event": "pipeline.failed",
    "occurred": "2026-10-14T08:00:00+00:00",
    "payload": {"kind": "etl_job_failure", "partition": "2026-10"},
}


def recovering(ledger: Ledger, config: GovernanceConfig) -> IncidentRecorder:
    """The recorder of a profit run that opened its own incident."""
    own = IncidentRecorder(ledger, config)
    own.open("unit-profit", "unit_profit_experiments", FAILURE, {"partition": "2026-10"}, "run-1")
    return own


def links(ledger: Ledger, incident_id: int) -> list[dict[str, object]]:
    return [e.detail for e in ledger.incidents.events(incident_id) if e.state == "linked"]


def test_the_runs_own_pipeline_is_written_on_its_own_incident(
    ledger: Ledger, config: GovernanceConfig
) -> None:
    own = recovering(ledger, config)
    assert publication_story(own, "unit_profit_experiments", "2026-10") is own
    assert links(ledger, own.incident_id or 0) == []


def test_an_open_incident_of_the_published_partition_is_attached_to_and_linked_once(
    ledger: Ledger, config: GovernanceConfig
) -> None:
    theirs = ledger.keys.open_or_attach(
        "aggregate_profit", "2026-10", "data_quality", datetime(2026, 10, 14, 7, tzinfo=UTC)
    )
    own = recovering(ledger, config)
    story = publication_story(own, "aggregate_profit", "2026-10")
    assert isinstance(story, LinkedStory) and story.incident_id == theirs.incident.id
    assert publication_story(own, "aggregate_profit", "2026-10").incident_id == story.incident_id
    assert [(d["as"], d["incident"]) for d in links(ledger, own.incident_id or 0)] == [
        ("publishes", theirs.incident.id)
    ]
    [attached] = ledger.keys.attached_events(theirs.incident.id)
    assert attached["linked_incident"] == own.incident_id
    # a lifecycle state goes to both stories; a marker only to the published one
    story.state(IncidentState.AWAITING_APPROVAL, detail={"step": "approve"})
    story.state(IncidentState.ANSWER_REFUSED, detail={"who": "D"})
    assert ledger.incidents.current_state(own.incident_id or 0) == "awaiting_approval"
    own_states = [e.state for e in ledger.incidents.events(own.incident_id or 0)]
    assert "answer_refused" not in own_states


def test_a_published_partition_opens_a_new_incident_for_the_next_publication(
    ledger: Ledger, config: GovernanceConfig
) -> None:
    own = recovering(ledger, config)
    first = publication_story(own, "aggregate_profit", "2026-10")
    opened = ledger.incidents.get(first.incident_id or 0)
    assert opened.opened_at == ledger.incidents.get(own.incident_id or 0).opened_at
    first.state(IncidentState.PUBLISHED, detail={"receipt": "r-1"})
    assert ledger.keys.open_incident_of("aggregate_profit", "2026-10") is None
    again = publication_story(own, "aggregate_profit", "2026-10")
    assert again.incident_id not in (None, first.incident_id)


def test_the_post_incident_report_of_the_runs_own_incident_says_where_its_gate_was(
    ledger: Ledger, config: GovernanceConfig
) -> None:
    own = recovering(ledger, config)
    story = publication_story(own, "aggregate_profit", "2026-10")
    story.approval_requested(
        "approve-1", ["B"], min_approvals=1, escalate_at=None, timeout_at=None, step_id="approve"
    )
    theirs = story.incident_id
    report = post_incident_markdown(ledger, config, own.incident_id or 0, datetime.now(UTC))
    approval = report.split("## Approval")[1].split("##")[0]
    assert f"Recorded under incident {theirs} (aggregate_profit 2026-10" in approval
    assert f"`runbook audit {theirs}`" in approval
    published = post_incident_markdown(ledger, config, theirs or 0, datetime.now(UTC))
    assert "approve-1" in published.split("## Approval")[1]


def test_how_the_run_ended_is_told_to_the_open_incident_it_was_publishing(
    ledger: Ledger, config: GovernanceConfig
) -> None:
    own = recovering(ledger, config)
    waiting = publication_story(own, "aggregate_profit", "2026-10")
    waiting.state(IncidentState.AWAITING_APPROVAL, detail={"step": "approve"})
    done = publication_story(own, "aggregate_profit", "2026-11")
    done.state(IncidentState.PUBLISHED, detail={"receipt": "r-1"})
    ended = {"why": "cancelled (Cancelled)"}
    assert tell_published(own, IncidentState.CANCELLED, ended) == [waiting.incident_id]
    [told] = [
        e for e in ledger.incidents.events(waiting.incident_id or 0) if e.state == "cancelled"
    ]
    assert told.detail == {**ended, "incident": own.incident_id}
    assert ledger.incidents.current_state(done.incident_id or 0) == "published"
