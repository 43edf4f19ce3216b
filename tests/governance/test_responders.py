"""Who may approve and whom to notify: on-call now plus the pipeline's owners."""

from __future__ import annotations

from datetime import UTC, datetime

from governance.models import GovernanceConfig
from governance.oncall.responders import (
    authorized_approvers,
    first_responders,
    notify_targets,
)
from tests.governance.conftest import make_config

WEEK_2 = datetime(2026, 1, 21, 12, 0, tzinfo=UTC)  # C primary, D backup


def test_approvers_are_on_call_now_and_the_owners(config: GovernanceConfig) -> None:
    assert authorized_approvers(config, "aggregate_profit", WEEK_2) == {"C", "D", "B", "A"}
    week_0 = datetime(2026, 1, 7, tzinfo=UTC)  # A primary, B backup; owners B, A
    assert authorized_approvers(config, "aggregate_profit", week_0) == {"A", "B"}


def test_approvers_follow_holiday_swaps() -> None:
    config = make_config(["{engineer: C, from: 2026-01-19, to: 2026-01-23}"])
    # week 2 is C's; C is away, D takes it and A (next) backs up
    assert authorized_approvers(config, "aggregate_profit", WEEK_2) == {"D", "A", "B"}


def test_notify_the_primary_first_then_backup_and_owners(config: GovernanceConfig) -> None:
    targets = notify_targets(config, "aggregate_profit", WEEK_2)
    assert targets.first == ("C",)
    assert targets.escalation == ("D", "B", "A")
    assert first_responders(config, "aggregate_profit", WEEK_2) == ["C"]
    week_1 = datetime(2026, 1, 14, tzinfo=UTC)  # B primary, C backup; owners B, A
    assert notify_targets(config, "aggregate_profit", week_1).escalation == ("C", "B", "A")


def test_in_a_coverage_gap_the_owners_are_notified_and_nobody_on_holiday() -> None:
    everyone_away = [f"{{engineer: {e}, from: 2026-01-19, to: 2026-01-23}}" for e in "ABCD"]
    config = make_config(everyone_away)
    targets = notify_targets(config, "aggregate_profit", WEEK_2)
    assert targets.first == ("B", "A")  # the pipeline's owners, primary owner first
    assert targets.escalation == ("B", "A")
    assert targets.on_call_people == ()
    assert targets.gap is not None and targets.gap.startswith("coverage gap: C on holiday")
    assert authorized_approvers(config, "aggregate_profit", WEEK_2) == {"B", "A"}


def test_with_no_backup_free_the_escalation_goes_to_the_owners() -> None:
    config = make_config([f"{{engineer: {e}, from: 2026-01-19, to: 2026-01-23}}" for e in "ABD"])
    targets = notify_targets(config, "aggregate_profit", WEEK_2)
    assert (targets.first, targets.escalation, targets.gap) == (("C",), ("B", "A"), None)
    assert targets.on_call_people == ("C",)


def test_before_the_rotation_starts_the_owners_are_told_first(config: GovernanceConfig) -> None:
    before = datetime(2025, 12, 20, tzinfo=UTC)
    targets = notify_targets(config, "unit_profit_experiments", before)
    assert (targets.first, targets.on_call, targets.gap) == (("A", "B"), None, "no rotation yet")
    assert authorized_approvers(config, "unit_profit_experiments", before) == {"A", "B"}
