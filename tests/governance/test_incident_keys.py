"""One open incident per (pipeline, partition), held by the database across processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from governance.ledger.audit_ledger import Ledger
from tests.claim_worker import race_claims

T0 = datetime(2026, 1, 21, 10, 0, tzinfo=UTC)


def _claim(ledger: Ledger, event_id: str, kind: str = "etl_job_failure", minutes: int = 0):
    return ledger.keys.open_or_attach(
        "aggregate_profit", "2026-01", kind, T0 + timedelta(minutes=minutes),
        event_id=event_id, runbook="aggregate-profit", flow_run_id=f"run-{event_id}",
    )  # fmt: skip


def test_a_second_failure_of_an_open_partition_attaches_to_its_incident(ledger: Ledger) -> None:
    first = _claim(ledger, "ev-1")
    second = _claim(ledger, "ev-2", kind="source_outage", minutes=3)
    assert not first.attached and second.attached
    assert second.incident == first.incident
    attached = ledger.keys.attached_events(first.incident.id)
    assert [(a["event_id"], a["kind"], a["at"]) for a in attached] == [
        ("ev-2", "source_outage", T0 + timedelta(minutes=3))
    ]
    assert ledger.incidents.current_state(first.incident.id) == "opened"  # a marker, not a state
    story = [line.what for line in ledger.incident_story(first.incident.id)]
    assert "event_attached" in story


def test_the_same_event_again_finds_its_own_incident_and_attaches_nothing(ledger: Ledger) -> None:
    first = _claim(ledger, "ev-1")
    assert _claim(ledger, "ev-1") == first
    assert ledger.keys.attached_events(first.incident.id) == []


def test_resolving_the_incident_releases_its_partition(ledger: Ledger) -> None:
    first = _claim(ledger, "ev-1")
    ledger.incidents.record_state(
        first.incident.id, "rejected"
    )  # still open: nothing was published
    assert _claim(ledger, "ev-2").attached
    ledger.incidents.record_state(first.incident.id, "published")
    assert ledger.keys.open_incident_of("aggregate_profit", "2026-01") is None
    fresh = _claim(ledger, "ev-3", minutes=30)
    assert not fresh.attached and fresh.incident.id != first.incident.id


def test_other_partitions_and_pipelines_have_keys_of_their_own(ledger: Ledger) -> None:
    first = _claim(ledger, "ev-1")
    other = ledger.keys.open_or_attach("aggregate_profit", "2026-02", "etl_job_failure", T0)
    growth = ledger.keys.open_or_attach("aggregate_growth", "2026-01", "etl_job_failure", T0)
    assert len({first.incident.id, other.incident.id, growth.incident.id}) == 3
    assert not other.attached and not growth.attached


# spawns four processes
def test_processes_claiming_one_partition_at_once_open_one_incident(ledger: Ledger) -> None:
    url = ledger.engine.url.render_as_string(hide_password=False)
    results = race_claims(url, ledger.schema)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({incident for incident, _ in results}) == 1
    assert sorted(attached for _, attached in results) == [False, True, True, True]
    assert len(ledger.keys.attached_events(results[0][0])) == 3
