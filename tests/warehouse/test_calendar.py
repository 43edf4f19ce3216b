from datetime import date

import pytest

from warehouse.calendar import PartitionError, parse_partition, partition_of, partitions_between


def test_partition_keys_parse_to_date_ranges() -> None:
    assert parse_partition("day", "2026-10-14").days == [date(2026, 10, 14)]
    week = parse_partition("week", "2026-W43")
    assert (week.start, week.end) == (date(2026, 10, 19), date(2026, 10, 25))
    month = parse_partition("fiscal_month", "2026-02")
    assert (month.start, month.end) == (date(2026, 2, 1), date(2026, 2, 28))


def test_445_calendar_has_four_four_five_week_months() -> None:
    lengths = [len(parse_partition("fiscal_month", f"2026-{m:02d}", "445").days) for m in (1, 2, 3)]
    assert lengths == [28, 28, 35]
    assert partition_of("fiscal_month", date(2026, 3, 1), "445").key == "2026-03"


def test_partitions_between_covers_the_range_in_order() -> None:
    keys = [p.key for p in partitions_between("week", date(2025, 12, 29), date(2026, 1, 12))]
    assert keys == ["2026-W01", "2026-W02", "2026-W03"]


@pytest.mark.parametrize(("grain", "key"), [("week", "2026-43"), ("day", "2026-13-01")])
def test_bad_keys_are_rejected(grain: str, key: str) -> None:
    with pytest.raises(PartitionError, match="bad"):
        parse_partition(grain, key)


@pytest.mark.parametrize(
    ("grain", "key"),
    [
        ("week", "2026-W0٣"),  # an Arabic-Indic digit
        ("fiscal_month", "\uff12\uff10\uff12\uff16-10"),  # full-width digits
        ("day", "2026-10-1\uff14"),
        ("fiscal_month", "2026-10\n"),  # a trailing newline would pass `$`
        ("fiscal_month", "2026-10'; DROP TABLE reports; --"),
        ("fiscal_month", "../../etc/passwd"),
    ],
)
def test_keys_outside_ascii_or_the_grain_are_rejected(grain: str, key: str) -> None:
    with pytest.raises(PartitionError, match="bad"):
        parse_partition(grain, key)


@pytest.mark.parametrize(
    ("grain", "key"), [("fiscal_month", "9999-12"), ("week", "1900-W01"), ("day", "2101-01-01")]
)
def test_years_outside_the_sane_range_are_rejected(grain: str, key: str) -> None:
    with pytest.raises(PartitionError, match=r"outside 1970\.\.2100"):
        parse_partition(grain, key)
