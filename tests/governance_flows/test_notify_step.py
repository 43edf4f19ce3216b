"""The notify.engineers step reaches the people its `to:` names, and records every attempt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from governance.config import load_governance
from governance.oncall import on_call_at
from recovery_tasks.context import StepContext
from recovery_tasks.notify import NotifyParams, engineers
from recovery_tasks.services import RunServices


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
