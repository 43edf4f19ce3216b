"""The SLA watch notifies each threshold once and records a breach once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from flows.operations.sla_watch import sla_watch, watch_once
from flows.runtime.run_services import open_command_services
from foundation.settings import temporary_settings
from recovery_tasks.services import RunServices


@pytest.fixture
def services(audit_url: str) -> Iterator[RunServices]:
    """The watch's services (as `runbook serve` runs it) on an audit ledger of the test's own."""
    with open_command_services(audit_url=audit_url) as services:
        yield services


def test_thresholds_are_notified_once_as_the_clock_runs(services: RunServices) -> None:
    ledger = services.ledger
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    incident = ledger.incidents.open(
        "aggregate_profit", "data_quality", opened, partition="2026-10"
    )

    assert watch_once(services, opened + timedelta(hours=1)).notified == []
    at_half = watch_once(services, opened + timedelta(hours=2, minutes=1))
    assert at_half.notified == [(incident.id, 0.5)]
    assert watch_once(services, opened + timedelta(hours=2, minutes=30)).notified == []
    later = watch_once(services, opened + timedelta(hours=3, minutes=5))
    assert later.notified == [(incident.id, 0.75)] and later.breached == []
    assert ledger.incidents.notified_thresholds(incident.id) == {0.5, 0.75}
    sent = [n for n in ledger.notifications.of_incident(incident.id) if n.reason == "sla_threshold"]
    assert sent  # every engineer reached or the failure to reach them is recorded


def test_breach_is_recorded_once_and_the_incident_stays_open(services: RunServices) -> None:
    ledger = services.ledger
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    incident = ledger.incidents.open(
        "aggregate_growth", "source_outage", opened, partition="2026-W44"
    )
    first = watch_once(services, opened + timedelta(hours=4, minutes=1))
    assert first.breached == [incident.id]
    assert sorted(t for _, t in first.notified) == [0.5, 0.75]
    assert watch_once(services, opened + timedelta(hours=5)).breached == []
    states = [e.state for e in ledger.incidents.events(incident.id)]
    assert states.count("breached") == 1


def test_resolved_incidents_are_not_watched(services: RunServices) -> None:
    ledger = services.ledger
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    incident = ledger.incidents.open(
        "aggregate_profit", "etl_job_failure", opened, partition="2026-10"
    )
    ledger.incidents.record_state(incident.id, "published", at=opened + timedelta(hours=1))
    report = watch_once(services, opened + timedelta(hours=6))
    assert report.checked == 0 and report.breached == []


@pytest.mark.prefect
def test_the_scheduled_flow_watches_the_configured_ledger(
    prefect_server: None, audit_url: str
) -> None:
    url = audit_url
    with open_command_services(audit_url=url) as services:
        opened = datetime.now(UTC) - timedelta(hours=5)
        services.ledger.incidents.open("aggregate_profit", "data_quality", opened)
    with temporary_settings(audit_url=url):
        assert sla_watch() == {"checked": 1, "notified": 2, "breached": 1}
