"""The SLA clock: deadline, time left, fraction used, thresholds and breach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance.sla import (
    due_notifications,
    format_time_left,
    sla_status,
)

OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FOUR_HOURS = timedelta(hours=4)


def test_at_opening_nothing_is_used() -> None:
    status = sla_status(OPENED, FOUR_HOURS, OPENED)
    assert status.deadline == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert status.time_left == FOUR_HOURS
    assert (status.fraction_used, status.crossed, status.breached) == (0.0, (), False)


@pytest.mark.parametrize(
    ("after", "fraction", "crossed", "breached"),
    [
        (timedelta(hours=1, minutes=59), 119 / 240, (), False),
        (timedelta(hours=2), 0.5, (0.5,), False),
        (timedelta(hours=3), 0.75, (0.5, 0.75), False),
        (timedelta(hours=4), 1.0, (0.5, 0.75), True),
        (timedelta(hours=5), 1.25, (0.5, 0.75), True),
    ],
)
def test_thresholds_and_breach(
    after: timedelta, fraction: float, crossed: tuple[float, ...], breached: bool
) -> None:
    status = sla_status(OPENED, FOUR_HOURS, OPENED + after)
    assert status.fraction_used == pytest.approx(fraction)
    assert (status.crossed, status.breached) == (crossed, breached)
    assert status.time_left == FOUR_HOURS - after


def test_each_threshold_is_notified_once() -> None:
    status = sla_status(OPENED, FOUR_HOURS, OPENED + timedelta(hours=3, minutes=1))
    assert due_notifications(status, []) == (0.5, 0.75)
    assert due_notifications(status, {0.5}) == (0.75,)
    assert due_notifications(status, {0.5, 0.75}) == ()


def test_custom_thresholds_and_when_they_fall() -> None:
    status = sla_status(OPENED, FOUR_HOURS, OPENED + timedelta(hours=3.7), thresholds=[0.9, 0.25])
    assert status.crossed == (0.25, 0.9)


def test_time_left_in_words() -> None:
    assert format_time_left(timedelta(hours=2, minutes=5, seconds=30)) == "2h05m left"
    assert format_time_left(timedelta(minutes=7)) == "7m left"
    assert format_time_left(timedelta(minutes=-15)) == "breached 15m ago"
    assert format_time_left(timedelta(0)) == "breached 0m ago"


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        sla_status(OPENED, timedelta(0), OPENED)
    with pytest.raises(ValueError, match="timezone-aware"):
        sla_status(OPENED, FOUR_HOURS, datetime(2026, 3, 2, 11, 0))
