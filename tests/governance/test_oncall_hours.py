"""Coverage by the hour, swaps by the week: a bank holiday changes hands only its own hours,
public holidays are declared once per calendar, the swap threshold is configurable, a
two-week absence stacks no weeks, and `--stats` adds up the shipped file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from governance.config import parse_governance
from governance.errors import GovernanceConfigError
from governance.models import GovernanceConfig
from governance.oncall.schedule import OnCall, schedule
from governance.oncall.stats import oncall_stats
from runbook_cli.main import app

LONDON = ZoneInfo("Europe/London")
SHIPPED = Path(__file__).parents[2] / "governance.yaml"
BANK_HOLIDAY = datetime(2026, 5, 25, tzinfo=LONDON)
ALL_OFF = "".join(f"  - {{engineer: {e}, from: 2026-05-25, to: 2026-05-25}}\n" for e in "ABCD")
UK = "public_holidays: {uk: [{name: Spring bank holiday, from: 2026-05-25}]"
ON_UK = {"# calendar: uk": "calendar: uk"}


def _shipped(holidays: str = "", extra: str = "", **replace: str) -> GovernanceConfig:
    text = SHIPPED.read_text()
    if holidays:
        text = text.replace("holidays: []", "holidays:\n" + holidays)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_governance(text + extra, "governance.yaml")


def _hours(rows: list[OnCall], role: str = "primary") -> float:
    return (
        sum((o.span[1] - o.span[0]).total_seconds() for o in rows if getattr(o, role) is None)
        / 3600
    )


def _who(rows: list[OnCall]) -> list[tuple[datetime, datetime, str | None, str | None]]:
    return [(*o.span, o.primary, o.backup) for o in rows]


def _hourly(rows: list[OnCall]) -> dict[datetime, tuple[str | None, str | None]]:
    """Who is primary and backup in each hour (UTC) the rows cover."""
    hours = {}
    for o in rows:
        t, end = o.span
        while t < end:
            hours[t.astimezone(UTC)] = (o.primary, o.backup)
            t += timedelta(hours=1)
    return hours


def test_the_whole_team_off_on_a_bank_holiday_leaves_a_one_day_gap_not_fourteen() -> None:
    config = _shipped(ALL_OFF)
    rows = schedule(config, datetime(2026, 5, 11, 9, 0), 4)
    gaps = [o for o in rows if o.gaps]
    assert [o.span for o in gaps] == [
        (BANK_HOLIDAY, datetime(2026, 5, 25, 9, 0, tzinfo=LONDON)),
        (datetime(2026, 5, 25, 9, 0, tzinfo=LONDON), BANK_HOLIDAY + timedelta(days=1)),
    ]  # the two weeks' sides of the handoff, 24 hours in all
    assert _hours(rows) == _hours(rows, "backup") == 24
    # both weeks keep their people for every other hour
    assert {o.week_primary for o in rows} == {"C", "D", "A", "B"}
    assert all(o.primary == o.week_primary for o in rows if not o.gaps)


def test_the_bank_holiday_case_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "governance.yaml"
    path.write_text(SHIPPED.read_text().replace("holidays: []", "holidays:\n" + ALL_OFF))
    args = ["oncall", "--at", "2026-05-11T09:00", "--weeks", "4", "--governance", str(path)]
    result = CliRunner().invoke(app, [*args, "--check"])
    assert result.exit_code == 1
    assert "2 coverage gap(s), 24 hours in 4 week(s)" in result.stderr
    table = result.stdout.splitlines()[2:]
    assert len(table) == 6 and sum("(gap)" in line for line in table) == 2


def test_one_engineer_off_for_a_day_hands_over_only_that_days_hours() -> None:
    # D's week 19 ends at 09:00 on the bank holiday; A's week 20 begins then, A backed by B.
    config = _shipped("  - {engineer: D, from: 2026-05-25, to: 2026-05-25}\n")
    plain = _hourly(schedule(_shipped(), datetime(2026, 5, 11, 9, 0), 4))
    rows = schedule(config, datetime(2026, 5, 11, 9, 0), 4)
    now = _hourly(rows)
    changed = sorted(t for t in now if now[t] != plain[t])
    assert len(changed) == 9 and changed[0] == BANK_HOLIDAY  # midnight to the 09:00 handoff
    assert {now[t] for t in changed} == {("A", "B")}
    assert [o.week_primary for o in rows if o.span[0] == BANK_HOLIDAY] == ["D"]
    assert not any(o.gaps for o in rows)


def test_a_public_holiday_declared_once_is_everyones_day_off() -> None:
    declared = _shipped(**ON_UK, **{"public_holidays: {}": UK + "}"})
    per_person = _shipped(ALL_OFF)
    start = datetime(2026, 5, 11, 9, 0)
    assert _who(schedule(declared, start, 4)) == _who(schedule(per_person, start, 4))
    gap = next(o for o in schedule(declared, start, 4) if o.gaps)
    assert "D off: Spring bank holiday 2026-05-25" in gap.why


def test_an_engineer_on_another_calendar_covers_the_others_bank_holiday() -> None:
    config = _shipped(
        **ON_UK,
        **{
            "public_holidays: {}": UK + ", us: []}",
            "D: {email: d@example.com}": "D: {email: d@example.com, calendar: us}",
        },
    )
    rows = schedule(config, datetime(2026, 5, 11, 9, 0), 4)
    day = [o for o in rows if BANK_HOLIDAY <= o.span[0] < BANK_HOLIDAY + timedelta(days=1)]
    assert [(o.primary, o.backup) for o in day] == [("D", None), ("D", None)]
    assert [o.gaps for o in rows if o.gaps] == [("backup",), ("backup",)]  # only a backup gap


def test_an_unknown_calendar_is_an_error_with_its_position() -> None:
    with pytest.raises(GovernanceConfigError, match="unknown public-holiday calendar uk"):
        _shipped(**ON_UK)


def test_the_swap_threshold_decides_when_a_short_absence_swaps_the_week() -> None:
    one_day = "  - {engineer: A, from: 2026-05-26, to: 2026-05-26}\n"  # Tuesday of A's week 20
    kept = schedule(_shipped(one_day), datetime(2026, 5, 25, 9, 0), 1)
    assert [o.week_primary for o in kept] == ["A", "A", "A"]  # split: B covers the Tuesday
    assert [o.primary for o in kept] == ["A", "B", "A"]
    strict = _shipped(one_day, **{"swap_threshold: 50": "swap_threshold: 10"})
    swapped = schedule(strict, datetime(2026, 5, 25, 9, 0), 1)
    assert [(o.primary, o.why) for o in swapped] == [
        ("B", "swap with A: A on holiday 2026-05-26..2026-05-26")
    ]


def test_two_weeks_away_makes_nobody_work_two_weeks_running() -> None:
    # The case: A away 2026-03-30..04-12 (A's week 12 and B's week 13). The old rule
    # gave B weeks 12 and 13, then A weeks 16 and 17.
    config = _shipped("  - {engineer: A, from: 2026-03-30, to: 2026-04-12}\n")
    rows = schedule(config, datetime(2026, 1, 5, 9, 0), 52)
    weekly = list({o.week_start: o.week_primary for o in rows}.values())
    assert weekly[10:18] == ["C", "D", "C", "B", "A", "D", "A", "B"]
    assert sum(a == b for a, b in pairwise(weekly)) == 0
    assert all(
        "A" not in o.people
        for o in rows
        if o.span[0] < datetime(2026, 4, 13, tzinfo=LONDON)
        and o.span[1] > datetime(2026, 3, 30, tzinfo=LONDON)
    )


def test_stats_of_the_shipped_file_for_a_year() -> None:
    config = _shipped()
    stats = oncall_stats(schedule(config, datetime(2026, 1, 5, 9, 0), 52), list(config.engineers))
    assert stats.weeks == 52 and stats.gaps == 0
    assert {n: (e.weeks["primary"], e.weeks["backup"]) for n, e in stats.engineers.items()} == {
        n: (13, 13) for n in "ABCD"
    }
    # 52 weeks are 8,736 hours: D's week of the spring change is an hour short, B's week of
    # the autumn change an hour long
    assert sum(e.hours["primary"] for e in stats.engineers.values()) == 52 * 168
    assert {n: e.hours["primary"] for n, e in stats.engineers.items()} == {
        "A": 2184, "B": 2185, "C": 2184, "D": 2183,
    }  # fmt: skip
    assert all(e.back_to_back == 0 and e.weeks_swapped_away == 0 for e in stats.engineers.values())


def test_stats_on_the_command_line_count_swaps_and_gap_hours(tmp_path: Path) -> None:
    path = tmp_path / "governance.yaml"
    holidays = ALL_OFF + "  - {engineer: B, from: 2026-07-27, to: 2026-08-07}\n"
    path.write_text(SHIPPED.read_text().replace("holidays: []", "holidays:\n" + holidays))
    result = CliRunner().invoke(
        app, ["oncall", "--stats", "--json", "--at", "2026-01-05", "--governance", str(path)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["weeks"] == 52 and doc["gaps"] == 2
    assert doc["gap_hours"] == {"primary": 24.0, "backup": 24.0}
    assert doc["engineers"]["B"]["weeks_swapped_away"] == 1
    assert sum(e["back_to_back"] for e in doc["engineers"].values()) == 0
    table = CliRunner().invoke(
        app, ["oncall", "--stats", "--at", "2026-01-05", "--governance", str(path)]
    )
    assert "coverage gaps: 2, no primary for 24 hours, no backup for 24 hours" in table.stdout


def test_every_time_is_in_exactly_one_assignment_across_a_split_week() -> None:
    rows = schedule(_shipped(ALL_OFF), datetime(2026, 5, 11, 9, 0), 4)
    for before, after in pairwise(rows):
        assert before.span[1] == after.span[0]
    assert rows[0].span[0] == datetime(2026, 5, 11, 8, 0, tzinfo=UTC)


def test_a_bad_threshold_or_public_holiday_is_an_error_at_its_place() -> None:
    with pytest.raises(GovernanceConfigError) as bad:
        _shipped(
            **{
                "swap_threshold: 50": "swap_threshold: 0",
                "public_holidays: {}": "public_holidays: {uk: [{name: x, from: 2026-05-25, "
                "to: 2026-05-24}]}",
            }
        )
    text = bad.value.render()
    assert "rotation.swap_threshold: Input should be greater than or equal to 1" in text
    assert "'to' (2026-05-24) is before 'from' (2026-05-25)" in text
