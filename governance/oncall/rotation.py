"""On-call weeks as time: week k starts at the handoff of `rotation.start + 7k days`.

Handoffs are wall-clock times in the rotation's IANA zone, so a week that contains a DST
change is 167 or 169 hours long and the handoff stays at, say, 09:00 local. The rotation
begins at week 0; there are no weeks before it. A holiday covers whole local days, midnight
to midnight in the rotation's zone, so one that starts on a handoff day already overlaps the
last hours of the week before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from governance.models import GovernanceConfig, Override


def localize(config: GovernanceConfig, when: datetime) -> datetime:
    """An aware datetime in the rotation's zone; a naive one is read as rotation-local time."""
    zone = config.rotation.zone
    return when.replace(tzinfo=zone) if when.tzinfo is None else when.astimezone(zone)


def week_start(config: GovernanceConfig, k: int) -> datetime:
    """The handoff that starts week k, in UTC (week 0 starts the rotation).

    UTC because Python compares and subtracts datetimes sharing one zone by wall clock.
    """
    rotation = config.rotation
    day = rotation.start + timedelta(days=7 * k)
    return datetime.combine(day, rotation.handoff.time, tzinfo=rotation.zone).astimezone(UTC)


def week_index(config: GovernanceConfig, when: datetime) -> int:
    """The week that `when` falls in (negative before the rotation starts)."""
    local = localize(config, when)
    k = (local.date() - config.rotation.start).days // 7
    return k - 1 if local < week_start(config, k) else k


def week_of_date(config: GovernanceConfig, day: date) -> int:
    """The week whose seven days include `day` (how an override's `week:` date is read)."""
    return (day - config.rotation.start).days // 7


def days_interval(config: GovernanceConfig, first: date, last: date) -> tuple[datetime, datetime]:
    """Whole local days `first`..`last` as a half-open UTC range: from the first local
    midnight to the midnight after the last day."""
    zone = config.rotation.zone
    start = datetime.combine(first, time(0), tzinfo=zone)
    after = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), after.astimezone(UTC)


def override_interval(config: GovernanceConfig, override: Override) -> tuple[datetime, datetime]:
    """The half-open time range an override covers, in UTC."""
    if override.week is not None:
        k = week_of_date(config, override.week)
        return week_start(config, k), week_start(config, k + 1)
    assert override.from_ is not None and override.to is not None
    return (
        localize(config, override.from_).astimezone(UTC),
        localize(config, override.to).astimezone(UTC),
    )
