"""The notify.engineers step reaches the people its `to:` names, and records every attempt."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from foundation.settings import get_settings
from governance.config import load_governance
from governance.oncall.schedule import on_call_at
from recovery_tasks.context import StepContext
from recovery_tasks.notify import NotifyParams, engineers
from recovery_tasks.services import RunServices


@pytest.fixture
def services(audit_url: str) -> Iterator[RunServices]:
    """A run's services on an audit ledger of the test's own."""
    settings = get_settings().with_updates(audit_url=audit_url)
    with RunServices.open(settings) as services:
        yield services


@pytest.mark.parametrize("to", ["on_call", "owners", "everyone"])
def test_notify_reaches_on_call_owners_or_both(to: str) -> None:
    config = load_governance()
    now = on_call_at(config, datetime.now(UTC))
    owners = list(config.pipeline("aggregate_profit").owners)
    expected = {
        "on_call": {now.primary, now.backup},
        "owners": set(owners),
        "everyone": {now.primary, now.backup, *owners},
    }[to]
    with RunServices.open(record=False) as services:
        ctx = StepContext(
            runbook="aggregate-profit",
            pipeline="aggregate_profit",
            step_id="tell",
            services=services,
        )
        result = engineers(NotifyParams(to=to, message="recovery failed"), ctx)
    reached = {entry.split(" ")[0] for entry in [*result.delivered, *result.undelivered]}
    assert reached == expected
    # the shipped governance.yaml has email contacts only, and no SMTP is configured here
    assert result.delivered == []
    assert all("no SMTP configured" in entry for entry in result.undelivered)


def test_every_attempt_is_told_in_the_incidents_story(services: RunServices) -> None:
    assert services.recorder.keeps_story
    incident = services.recorder.open(
        "aggregate-profit",
        "aggregate_profit",
        {"event": "pipeline.failed", "payload": {"kind": "data_quality", "partition": "2026-10"}},
        {"partition": "2026-10"},
        None,
    )
    ctx = StepContext(
        runbook="aggregate-profit",
        pipeline="aggregate_profit",
        step_id="tell",
        incident=incident.namespace(),
        services=services,
    )
    result = engineers(NotifyParams(to="owners", message="recovery failed"), ctx)
    recorded = services.ledger.notifications.of_incident(incident.id)
    assert sorted(n.recipient for n in recorded) == ["A", "B"]  # aggregate_profit's owners
    assert {n.reason for n in recorded} == {"runbook:aggregate-profit"}
    assert len(recorded) == len(result.undelivered) + len(result.delivered)
