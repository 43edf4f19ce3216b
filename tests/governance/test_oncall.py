"""On-call over a year of weeks: rotation, holiday swaps, backups, overrides, handoffs, DST."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from governance.models import GovernanceConfig
from governance.oncall import on_call_at, schedule
from tests.governance.conftest import make_config

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)


def _weeks(config: GovernanceConfig, weeks: int = 53) -> list[tuple[str, str]]:
    return [(o.primary, o.backup) for o in schedule(config, START, weeks)]


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
    rows = schedule(config, START, 53)
    assert (rows[5].primary, rows[5].backup) == ("C", "D")
    assert (rows[6].primary, rows[6].backup) == ("B", "C")
    assert rows[5].reasons == ["swap with B: B on holiday 2026-02-09..2026-02-13"]
    assert rows[6].reasons == ["swap with C: C covered B's week"]
    changed = [k for k, o in enumerate(rows) if (o.primary, o.backup) != _base(k)]
    assert changed == [5, 6]  # the swap changes only those two weeks


def test_a_two_week_holiday_swaps_with_the_first_engineer_whose_week_is_free() -> None:
    # A is away weeks 8 and 9; B's week 9 is not free of A's holiday, C's week 10 is.
    config = make_config(["{engineer: A, from: 2026-03-02, to: 2026-03-15}"])
    rows = _weeks(config)
    assert rows[8:11] == [("C", "D"), ("B", "C"), ("A", "B")]
    assert [k for k, row in enumerate(rows) if row != _base(k)] == [8, 10]


def test_back_to_back_holidays_of_two_engineers() -> None:
    # B away in week 13 (B's), C away in week 14 (C's): B swaps with C, and C is then free.
    config = make_config([
        "{engineer: B, from: 2026-04-06, to: 2026-04-10}",
        "{engineer: C, from: 2026-04-13, to: 2026-04-17}",
    ])  # fmt: skip
    rows = schedule(config, START, 53)
    assert (rows[13].primary, rows[13].backup) == ("C", "D")
    assert (rows[14].primary, rows[14].backup) == ("B", "D")  # C, the backup, is away
    assert rows[14].reasons == ["swap with C: C covered B's week", "backup C on holiday"]


def test_swap_skips_a_partner_who_is_on_holiday_that_week() -> None:
    # D away in week 19 (D's); A is away too, so B (week 21) takes week 19.
    config = make_config([
        "{engineer: D, from: 2026-05-18, to: 2026-05-22}",
        "{engineer: A, from: 2026-05-18, to: 2026-05-24}",
    ])  # fmt: skip
    rows = _weeks(config)
    assert rows[19:22] == [("B", "C"), ("A", "B"), ("D", "A")]
    assert rows[18] == ("C", "D")  # C's backup D is on holiday only from week 19


def test_backup_on_holiday_is_skipped() -> None:
    config = make_config(["{engineer: B, from: 2026-06-22, to: 2026-06-26}"])
    week = on_call_at(config, datetime(2026, 6, 24, 12, 0, tzinfo=LONDON))
    assert (week.primary, week.backup) == ("A", "C")
    assert week.reasons == ["rotation", "backup B on holiday"]
    assert _weeks(config)[25] == ("B", "C")  # B is back for their own week


def test_nobody_free_to_swap_keeps_the_primary_and_says_so() -> None:
    holiday = "from: 2026-01-05, to: 2026-02-08"
    config = make_config([f"{{engineer: {e}, {holiday}}}" for e in "ABCD"])
    week = on_call_at(config, START)
    assert week.primary == "A"
    assert week.reasons[0] == "A on holiday 2026-01-05..2026-02-08; nobody free to swap"


def test_week_override_wins_over_rotation_and_holidays() -> None:
    config = make_config(
        ["{engineer: C, from: 2026-08-03, to: 2026-08-07}"],
        ["{week: 2026-08-03, primary: C, backup: A, reason: C asked to keep the week}"],
    )
    rows = schedule(config, START, 53)
    assert (rows[30].primary, rows[30].backup) == ("C", "A")
    assert rows[30].reasons == ["override: C asked to keep the week"]
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
    rows = schedule(config, START, 52)
    assert Counter(o.primary for o in rows) == {"A": 13, "B": 13, "C": 13, "D": 13}
    for o in rows:
        assert o.primary != o.backup
        middle = o.week_start + (o.week_end - o.week_start) / 2
        at = on_call_at(config, middle)
        assert (at.primary, at.backup, at.reasons) == (o.primary, o.backup, o.reasons)
        first, last = o.week_start.date(), o.week_start.date() + timedelta(days=6)
        away = {h.engineer for h in config.holidays if h.covers(first, last)}
        assert o.primary not in away and o.backup not in away
    # a window starting mid-year gives the same weeks as the whole year
    assert [(o.primary, o.backup) for o in schedule(config, rows[20].week_start, 10)] == [
        (o.primary, o.backup) for o in rows[20:30]
    ]


def test_rotation_repeats_before_its_start(config: GovernanceConfig) -> None:
    week = on_call_at(config, datetime(2025, 12, 31, tzinfo=LONDON))
    assert (week.primary, week.backup) == ("D", "A")
