"""On-call over a year of weeks: rotation, holiday swaps, backups, overrides, handoffs, DST,
the rotation's start, holidays as whole local days, and coverage gaps."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from governance.models import GovernanceConfig
from governance.oncall.rotation import days_interval
from governance.oncall.schedule import NoRotationYet, OnCall, on_call_at, schedule
from tests.governance.conftest import make_config

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)


def _main_parts(config: GovernanceConfig, weeks: int = 53) -> list[OnCall]:
    """Per week, its longest part: the week as a whole, short absences aside."""
    longest: dict[datetime, OnCall] = {}
    for o in schedule(config, START, weeks):
        held = longest.get(o.week_start)
        if held is None or _length(o) > _length(held):
            longest[o.week_start] = o
    return list(longest.values())


def _length(o: OnCall) -> timedelta:
    start, end = o.span
    return end - start


def _weeks(config: GovernanceConfig, weeks: int = 53) -> list[tuple[str | None, str | None]]:
    return [(o.primary, o.backup) for o in _main_parts(config, weeks)]


def _base(k: int) -> tuple[str, str]:
    return "ABCD"[k % 4], "ABCD"[(k + 1) % 4]


def test_plain_rotation_for_a_year_repeats_from_week_five(config: GovernanceConfig) -> None:
    rows = schedule(config, START, 53)
    assert [(o.primary, o.backup) for o in rows[:5]] == [
        ("A", "B"), ("B", "C"), ("C", "D"), ("D", "A"), ("A", "B"),
    ]  # fmt: skip
    assert [(o.primary, o.backup) for o in rows] == [_base(k) for k in range(53)]
    assert all(o.reasons == ["rotation"] for o in rows)
    for before, after in pairwise(rows):
        assert before.week_end == after.week_start  # no gaps, no overlaps
    for o in rows:  # the handoff is Monday 09:00 London time, summer or winter
        local = o.week_start.astimezone(LONDON)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)


def test_weeks_with_a_dst_change_are_an_hour_shorter_or_longer(config: GovernanceConfig) -> None:
    lengths = {o.week_start.date(): o.week_end - o.week_start for o in schedule(config, START, 53)}
    assert lengths[datetime(2026, 3, 23).date()] == timedelta(hours=167)  # clocks go forward 29th
    assert lengths[datetime(2026, 10, 19).date()] == timedelta(hours=169)  # back on the 25th
    assert Counter(lengths.values())[timedelta(hours=168)] == 51


def test_handoff_happens_at_nine_local_across_the_spring_change(config: GovernanceConfig) -> None:
    # 2026-03-30 09:00 BST is 08:00 UTC: D's week (11) ends then and A's (12) begins.
    assert on_call_at(config, datetime(2026, 3, 30, 7, 59, tzinfo=UTC)).primary == "D"
    assert on_call_at(config, datetime(2026, 3, 30, 8, 0, tzinfo=UTC)).primary == "A"
    # in winter 09:00 London is 09:00 UTC
    assert on_call_at(config, datetime(2026, 3, 23, 8, 59, tzinfo=UTC)).primary == "C"
    assert on_call_at(config, datetime(2026, 3, 23, 9, 0, tzinfo=UTC)).primary == "D"


def test_handoff_in_another_zone_weekday_and_hour() -> None:
    config = make_config(weekday="wednesday", time="17:30", zone="America/New_York",
                         start="2026-03-04")  # fmt: skip
    new_york = ZoneInfo("America/New_York")
    # DST starts in New York on 2026-03-08: the first handoff is EST, the second EDT.
    assert on_call_at(config, datetime(2026, 3, 11, 17, 29, tzinfo=new_york)).primary == "A"
    assert on_call_at(config, datetime(2026, 3, 11, 17, 30, tzinfo=new_york)).primary == "B"
    assert on_call_at(config, datetime(2026, 3, 11, 21, 30, tzinfo=UTC)).primary == "B"
    assert on_call_at(config, datetime(2026, 3, 11, 21, 29, tzinfo=UTC)).primary == "A"
    first = schedule(config, datetime(2026, 3, 5, tzinfo=new_york), 1)[0]
    assert first.week_end - first.week_start == timedelta(hours=167)


def test_naive_times_are_read_in_the_rotation_zone(config: GovernanceConfig) -> None:
    assert on_call_at(config, datetime(2026, 7, 6, 8, 59)).primary == "B"  # week 25 ends
    assert on_call_at(config, datetime(2026, 7, 6, 9, 0)).primary == "C"  # at 08:00 UTC


def test_holiday_swaps_the_primary_with_the_next_engineer() -> None:
    config = make_config(["{engineer: B, from: 2026-02-09, to: 2026-02-13}"])
    rows = _main_parts(config)
    assert (rows[5].primary, rows[5].backup) == ("C", "D")
    assert (rows[6].primary, rows[6].backup) == ("B", "C")
    assert rows[5].reasons == ["swap with B: B on holiday 2026-02-09..2026-02-13"]
    assert rows[6].reasons == ["swap with C: C covered B's week"]
    # B's holiday starts at midnight before week 5's handoff: B backs A up in week 4 but
    # for its last nine hours, which C covers
    assert (rows[4].primary, rows[4].backup) == ("A", "B")
    last_hours = on_call_at(config, datetime(2026, 2, 9, 3, 0, tzinfo=LONDON))
    assert (last_hours.primary, last_hours.backup) == ("A", "C")
    assert last_hours.reasons == [
        "rotation",
        "backup C covers B's hours: B on holiday 2026-02-09..2026-02-13",
    ]
    changed = [k for k, o in enumerate(rows) if (o.primary, o.backup) != _base(k)]
    assert changed == [5, 6]  # the swap changes weeks 5 and 6 only


def test_a_two_week_holiday_swaps_with_the_first_partner_whose_next_week_is_free() -> None:
    # A is away in weeks 8 and 9 (and the last hours of 7). B's next week, 9, is inside the
    # holiday, so C (next after B) takes week 8 and gives A week 10, C's next: nobody works
    # two weeks running (the old rule gave B weeks 8 and 9, then A weeks 12 and 13).
    config = make_config(["{engineer: A, from: 2026-03-02, to: 2026-03-15}"])
    rows = _weeks(config)
    assert rows[7:14] == [("D", "A"), ("C", "D"), ("B", "C"), ("A", "B"), ("D", "A"),
                          ("A", "B"), ("B", "C")]  # fmt: skip
    assert [k for k, row in enumerate(rows) if row != _base(k)] == [8, 10]
    primaries = [p for p, _ in rows]
    assert all(a != b for a, b in pairwise(primaries))


def test_a_long_holiday_is_covered_without_stacking_weeks_on_anyone() -> None:
    # A is away ten weeks (8-17). For A's weeks 8 and 12 every partner's next week falls
    # inside the holiday, so B, next in order, covers them and A owes no week; for week 16
    # C trades: A takes C's week 18.
    config = make_config(["{engineer: A, from: 2026-03-02, to: 2026-05-10}"])
    rows = _main_parts(config)
    assert (rows[8].primary, rows[8].reasons) == (
        "B",
        ["B covers A's week: A on holiday 2026-03-02..2026-05-10; no week of B's to swap"],
    )
    assert [rows[k].primary for k in (12, 16, 18, 20)] == ["B", "C", "A", "A"]
    away = days_interval(config, config.holidays[0].from_, config.holidays[0].to)
    for o in schedule(config, START, 53):  # A is never on call during the holiday; no gaps
        start, end = o.span
        assert "A" not in o.people or not (start < away[1] and away[0] < end)
        assert o.gaps == ()
    assert Counter(o.primary for o in rows[:52]) == {"A": 11, "B": 15, "C": 13, "D": 13}


def test_back_to_back_holidays_of_two_engineers() -> None:
    # B away in week 13 (B's), C away in week 14 (C's): B swaps with C, and C is then free.
    config = make_config([
        "{engineer: B, from: 2026-04-06, to: 2026-04-10}",
        "{engineer: C, from: 2026-04-13, to: 2026-04-17}",
    ])  # fmt: skip
    rows = _main_parts(config)
    # C's holiday starts nine hours before week 14's handoff: too little to stop C taking
    # week 13 (D covers those hours); B takes C's week 14, when C is away anyway.
    assert (rows[13].primary, rows[13].backup) == ("C", "D")
    assert rows[13].reasons == ["swap with B: B on holiday 2026-04-06..2026-04-10"]
    assert (rows[14].primary, rows[14].backup) == ("B", "D")
    assert rows[14].reasons == ["swap with C: C covered B's week", "backup C on holiday"]
    last_hours = on_call_at(config, datetime(2026, 4, 13, 8, 0, tzinfo=LONDON))
    assert (last_hours.primary, last_hours.backup) == ("D", "A")
    assert [k for k, o in enumerate(rows) if (o.primary, o.backup) != _base(k)] == [13, 14]


def test_swap_skips_a_partner_who_is_on_holiday_that_week() -> None:
    # D away in week 19 (D's); A is away too, so B (week 21) takes week 19.
    config = make_config([
        "{engineer: D, from: 2026-05-18, to: 2026-05-22}",
        "{engineer: A, from: 2026-05-18, to: 2026-05-24}",
    ])  # fmt: skip
    rows = _weeks(config)
    assert rows[19:22] == [("B", "C"), ("A", "B"), ("D", "A")]
    assert rows[18] == ("C", "D")  # D is away only the last nine hours of week 18
    assert on_call_at(config, datetime(2026, 5, 18, 3, 0, tzinfo=LONDON)).backup == "B"


def test_backup_on_holiday_is_skipped() -> None:
    config = make_config(["{engineer: B, from: 2026-06-22, to: 2026-06-26}"])
    week = on_call_at(config, datetime(2026, 6, 24, 12, 0, tzinfo=LONDON))
    assert (week.primary, week.backup) == ("A", "C")
    assert week.reasons == ["rotation", "backup B on holiday"]
    assert _weeks(config)[25] == ("B", "C")  # B is back for their own week


def test_a_week_with_everyone_away_is_a_coverage_gap_naming_nobody() -> None:
    holiday = "from: 2026-01-05, to: 2026-02-08"
    config = make_config([f"{{engineer: {e}, {holiday}}}" for e in "ABCD"])
    week = on_call_at(config, START)
    assert (week.primary, week.backup, week.people) == (None, None, ())
    assert week.gaps == ("primary", "backup")
    assert week.reasons == [
        "coverage gap: A on holiday 2026-01-05..2026-02-08 and nobody else is free",
        "coverage gap: no backup, everyone else on holiday",
    ]
    rows = schedule(config, START, 6)  # the holiday ends nine hours before week 5's handoff
    gap_end = max(o.span[1] for o in rows if o.gaps)
    assert gap_end == datetime(2026, 2, 9, tzinfo=LONDON)
    assert [o.primary for o in rows if o.span[0] >= gap_end] == ["A", "B"]


def test_a_week_with_only_the_primary_free_has_no_backup() -> None:
    config = make_config([f"{{engineer: {e}, from: 2026-01-13, to: 2026-01-16}}" for e in "ACD"])
    week = on_call_at(config, datetime(2026, 1, 14, tzinfo=LONDON))
    assert (week.primary, week.backup, week.gaps) == ("B", None, ("backup",))


def test_week_override_wins_over_rotation_and_holidays() -> None:
    config = make_config(
        ["{engineer: C, from: 2026-08-03, to: 2026-08-07}"],
        ["{week: 2026-08-03, primary: C, backup: A, reason: C asked to keep the week}"],
    )
    rows = _main_parts(config)
    assert (rows[30].primary, rows[30].backup) == ("C", "A")
    assert rows[30].reasons == ["override: C asked to keep the week"]
    assert (rows[29].primary, rows[29].backup) == ("B", "C")  # C's last nine hours: D
    assert [k for k, o in enumerate(rows) if (o.primary, o.backup) != _base(k)] == [30]


def test_range_override_splits_the_week() -> None:
    override = "{from: '2026-09-02T18:00', to: '2026-09-03T09:00', primary: A}"
    config = make_config(overrides=[override])  # local times of the rotation
    parts = schedule(config, datetime(2026, 9, 1, tzinfo=LONDON), 1)

    def local(when: datetime | None) -> str:
        assert when is not None
        return f"{when.astimezone(LONDON):%a %H:%M}"

    assert [(p.primary, p.backup, local(p.start), local(p.end)) for p in parts] == [
        ("C", "D", "Mon 09:00", "Wed 18:00"),
        ("A", "B", "Wed 18:00", "Thu 09:00"),
        ("C", "D", "Thu 09:00", "Mon 09:00"),
    ]
    assert {p.week_start for p in parts} == {datetime(2026, 8, 31, 8, 0, tzinfo=UTC)}
    assert parts[1].reasons == ["override"]
    assert on_call_at(config, datetime(2026, 9, 2, 20, 0, tzinfo=LONDON)).primary == "A"
    assert on_call_at(config, datetime(2026, 9, 3, 9, 0, tzinfo=LONDON)).primary == "C"


def test_override_of_only_the_backup_keeps_the_primary() -> None:
    config = make_config(overrides=["{week: 2026-01-12, backup: D}"])
    week = on_call_at(config, datetime(2026, 1, 14, tzinfo=LONDON))
    assert (week.primary, week.backup) == ("B", "D")


def test_a_year_with_holidays_is_fair_and_answers_agree() -> None:
    config = make_config([
        "{engineer: B, from: 2026-02-09, to: 2026-02-13}",
        "{engineer: A, from: 2026-03-02, to: 2026-03-15}",
        "{engineer: C, from: 2026-04-13, to: 2026-04-17}",
        "{engineer: D, from: 2026-05-18, to: 2026-05-22}",
        "{engineer: A, from: 2026-08-10, to: 2026-08-21}",
        "{engineer: B, from: 2026-12-21, to: 2026-12-31}",
    ])  # fmt: skip
    weeks = _main_parts(config, 56)
    assert Counter(o.primary for o in weeks) == {"A": 14, "B": 14, "C": 14, "D": 14}
    rows = schedule(config, START, 56)
    for o in rows:
        assert o.primary != o.backup and o.gaps == ()
        start, end = o.span
        at = on_call_at(config, start + (end - start) / 2)
        assert (at.primary, at.backup, at.reasons) == (o.primary, o.backup, o.reasons)
        away = {
            h.engineer
            for h in config.holidays
            for first, after in [days_interval(config, h.from_, h.to)]
            if first < end and start < after
        }
        assert o.primary not in away and o.backup not in away
    # a window starting mid-year gives the same assignments as the whole year
    window = schedule(config, weeks[20].week_start, 10)
    assert window == [
        o for o in rows if weeks[20].week_start <= o.week_start < weeks[30].week_start
    ]


def test_asking_before_the_rotation_starts_is_a_clear_error(config: GovernanceConfig) -> None:
    message = (
        r"no rotation yet at 2025-12-31 00:00 GMT: it begins 2026-01-05 Mon 09:00 GMT "
        r"\(Europe/London\)"
    )
    with pytest.raises(NoRotationYet, match=message):
        on_call_at(config, datetime(2025, 12, 31, tzinfo=LONDON))
    with pytest.raises(NoRotationYet):
        on_call_at(config, datetime(2026, 1, 5, 8, 59, tzinfo=LONDON))
    with pytest.raises(NoRotationYet):
        schedule(config, datetime(2026, 1, 1, tzinfo=LONDON), 4)
    assert on_call_at(config, START).primary == "A"


def test_a_holiday_before_the_start_moves_nobody_into_the_first_week() -> None:
    config = make_config(["{engineer: D, from: 2025-12-29, to: 2026-01-02}"])
    rows = schedule(config, START, 8)
    assert [(o.primary, o.backup) for o in rows] == [_base(k) for k in range(8)]
    assert rows[0].reasons == ["rotation"]


def test_a_holiday_starting_on_the_handoff_day_covers_the_hours_before_the_handoff() -> None:
    # C's holiday begins Monday 26 January; C's own week 2 ends at 09:00 that morning: C
    # keeps the week, and the backup D covers its last nine hours.
    config = make_config(["{engineer: C, from: 2026-01-26, to: 2026-01-30}"])
    before_handoff = on_call_at(config, datetime(2026, 1, 26, 8, 30, tzinfo=LONDON))
    assert (before_handoff.primary, before_handoff.backup) == ("D", "A")
    assert before_handoff.reasons == [
        "rotation",
        "D covers C's hours: C on holiday 2026-01-26..2026-01-30",
        "backup A for these hours",
    ]
    assert on_call_at(config, datetime(2026, 1, 25, 23, 0, tzinfo=LONDON)).primary == "C"
    # week 1 ends before the holiday: C still backs B up
    assert on_call_at(config, datetime(2026, 1, 14, tzinfo=LONDON)).backup == "C"


def test_holidays_are_whole_days_in_the_rotation_zone() -> None:
    # New York rotation, handoff Wednesday 17:30. B's holiday ends Wednesday 11 March: it
    # covers that day until midnight New York time, so B cannot start week 1 at 17:30.
    config = make_config(
        ["{engineer: B, from: 2026-03-09, to: 2026-03-11}"],
        weekday="wednesday", time="17:30", zone="America/New_York", start="2026-03-04",
    )  # fmt: skip
    new_york = ZoneInfo("America/New_York")
    first, after = days_interval(config, config.holidays[0].from_, config.holidays[0].to)
    assert (first.astimezone(new_york).hour, after.astimezone(new_york)) == (
        0, datetime(2026, 3, 12, tzinfo=new_york),
    )  # fmt: skip
    assert on_call_at(config, datetime(2026, 3, 11, 18, 0, tzinfo=new_york)).primary == "C"
