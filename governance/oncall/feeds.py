"""The on-call schedule as iCalendar feeds people subscribe to (as PagerDuty and Opsgenie
offer): one for the team, with primary and backup as separate events and coverage gaps as
events of their own, and one per engineer with only their shifts.

Times are in the rotation's zone with its VTIMEZONE, so a calendar shows the handoff at
09:00 local on both sides of a DST change. UIDs are stable for the same role and start, so a
re-published feed updates events instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from governance.models import GovernanceConfig
from governance.oncall.rotation import localize
from governance.oncall.schedule import OnCall

PRODID = "-//pipeline-recovery//runbook oncall//EN"
TEAM_FEED = "team.ics"


def team_feed(config: GovernanceConfig, rows: Iterable[OnCall], stamp: datetime) -> Calendar:
    """Every assignment: a primary event and a backup event (or a gap event) per stretch."""
    events = []
    for row in rows:
        for role in ("primary", "backup"):
            name = getattr(row, role)
            if name is None:
                summary = f"Coverage gap: no {role} on call"
            else:
                summary = f"On call ({role}): {name}"
            events.append(_event(config, row, f"team-{role}", summary, stamp))
    return _calendar("team", "On call: team", events)


def engineer_feed(
    config: GovernanceConfig, rows: Iterable[OnCall], engineer: str, stamp: datetime
) -> Calendar:
    """The stretches `engineer` is primary or backup, each saying who the other one is."""
    events = []
    for row in rows:
        if row.primary == engineer:
            other = f"backup {row.backup}" if row.backup else "no backup (coverage gap)"
            events.append(
                _event(config, row, f"{engineer}-primary", f"On call: primary, {other}", stamp)
            )
        elif row.backup == engineer:
            other = f"primary {row.primary}" if row.primary else "no primary (coverage gap)"
            events.append(
                _event(config, row, f"{engineer}-backup", f"On call: backup, {other}", stamp)
            )
    return _calendar(f"engineer-{engineer}", f"On call: {engineer}", events)


def write_feeds(
    config: GovernanceConfig, rows: list[OnCall], directory: Path, stamp: datetime | None = None
) -> list[Path]:
    """`team.ics` and `engineer-<name>.ics` for every engineer in the file, in `directory`."""
    stamp = stamp or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    feeds = {TEAM_FEED: team_feed(config, rows, stamp)}
    for name in config.engineers:
        feeds[f"engineer-{name}.ics"] = engineer_feed(config, rows, name, stamp)
    written = []
    for filename, calendar in feeds.items():
        path = directory / filename
        path.write_bytes(calendar.to_ical())
        written.append(path)
    return written


def _span(events: list[Event]) -> tuple[datetime, datetime] | None:
    """The time the events cover (the time-zone definitions need no more), or None."""
    if not events:
        return None
    return min(e.start for e in events), max(e.end for e in events)


def _event(config: GovernanceConfig, row: OnCall, key: str, summary: str, stamp: datetime) -> Event:
    assert row.start is not None and row.end is not None
    start, end = localize(config, row.start), localize(config, row.end)
    people = f"Primary: {row.primary or '(gap)'}; backup: {row.backup or '(gap)'}"
    return Event.new(
        uid=f"{key}-{row.start:%Y%m%dT%H%M%SZ}@runbook-oncall",
        summary=summary,
        start=start,
        end=end,
        stamp=stamp,
        description=f"{people}\nWhy: {row.why}",
        categories=["on-call"],
    )


def _calendar(key: str, name: str, events: list[Event]) -> Calendar:
    """A calendar with a stable UID (the same feed keeps its identity across publications)
    and the time-zone definitions its events need."""
    calendar = Calendar.new(
        prodid=PRODID, name=name, uid=f"{key}@runbook-oncall", subcomponents=events
    )
    span = _span(events)
    if span is not None:
        first, last = span
        calendar.add_missing_timezones(
            first_date=(first - timedelta(days=1)).date(),
            last_date=(last + timedelta(days=1)).date(),
        )
    return calendar
