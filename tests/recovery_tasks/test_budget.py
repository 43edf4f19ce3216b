"""Waiting within the SLA: a share of the time left, backoff with jitter, never past the end."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from recovery_tasks.budget import Backoff, Budget, BudgetParams, budget_for, keep_trying
from recovery_tasks.context import StepContext

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def ctx_with_deadline(left: timedelta) -> StepContext:
    return StepContext(
        runbook="r", pipeline="aggregate_profit", step_id="s",
        incident={"id": 1, "deadline": (NOW + left).isoformat()},
    )  # fmt: skip


def test_the_budget_is_a_share_of_the_sla_time_left() -> None:
    budget = budget_for(BudgetParams(budget=0.5), ctx_with_deadline(timedelta(hours=3)), NOW)
    assert budget.seconds == 5400 and budget.sla_left == 10800
    assert budget.describe(0.5) == "1h30m (50% of the SLA time left, 3h)"


def test_max_wait_caps_the_budget_and_a_breached_sla_leaves_none() -> None:
    capped = BudgetParams(budget=0.5, max_wait=timedelta(minutes=10))
    assert budget_for(capped, ctx_with_deadline(timedelta(hours=3)), NOW).seconds == 600
    breached = budget_for(BudgetParams(), ctx_with_deadline(-timedelta(minutes=5)), NOW)
    assert breached.seconds == 0


def test_backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() -> None:
    backoff = Backoff(first=1, cap=8, rng=random.Random(3))
    for attempt, base in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        assert base / 2 <= backoff.delay(attempt) <= base


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_keep_trying_stops_at_the_budget_with_a_last_attempt_at_its_end() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def attempt() -> tuple[bool, None, str]:
        calls.append(clock.now)
        return False, None, f"down at {clock.now:.0f}"

    tried = keep_trying(
        attempt, Budget(10, None), Backoff(1, 4, random.Random(1)),
        sleep=clock.sleep, clock=lambda: clock.now,
    )  # fmt: skip
    assert not tried.succeeded and tried.attempts == len(calls)
    assert calls[-1] == 10 and tried.waited == 10  # the last wait was shortened to the end
    assert tried.first_problem == "down at 0" and tried.last_problem == "down at 10"


def test_keep_trying_returns_the_first_success() -> None:
    clock = FakeClock()
    answers = iter([(False, None, "not yet"), (False, None, "not yet"), (True, 42, None)])
    tried = keep_trying(
        lambda: next(answers), Budget(60, None), Backoff(1, 4),
        sleep=clock.sleep, clock=lambda: clock.now,
    )  # fmt: skip
    assert (tried.succeeded, tried.value, tried.attempts) == (True, 42, 3)
    assert tried.first_problem == "not yet" and len(clock.sleeps) == 2


def test_a_zero_budget_still_tries_once() -> None:
    calls: list[int] = []

    def attempt() -> tuple[bool, None, str]:
        calls.append(1)
        return False, None, "no"

    tried = keep_trying(attempt, Budget(0, None), Backoff(1, 1))
    assert len(calls) == 1 and not tried.succeeded
