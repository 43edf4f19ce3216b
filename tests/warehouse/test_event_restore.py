"""Restoring events from backup files: exact rows back, and bad files stopped at their line."""

from __future__ import annotations

import dataclasses
import gzip
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from warehouse.db import Platform
from warehouse.event_restore import restore_events_from_backup
from warehouse.logs_storage import EVENT_COLUMNS, BackupFileError, day_path

LOST_DAY = date(2026, 3, 30)
GOOD, BAD = date(2030, 1, 1), date(2030, 1, 2)
FIRST_ID = 9_100_000_000
HEADER = ",".join(EVENT_COLUMNS)


def _rows(platform: Platform, where: str, params: dict) -> list[tuple]:
    with platform.source("events").connect() as conn:
        sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE {where} ORDER BY event_id"
        return [tuple(r) for r in conn.execute(text(sql), params)]


def test_a_lost_day_comes_back_exactly_as_it_was(clean: Platform) -> None:
    before = _rows(clean, "event_date = :d", {"d": LOST_DAY})
    with clean.source("events").begin() as conn:
        conn.execute(text("DELETE FROM events WHERE event_date = :d"), {"d": LOST_DAY})
    try:
        first = restore_events_from_backup(clean, [LOST_DAY])
        assert _rows(clean, "event_date = :d", {"d": LOST_DAY}) == before
        assert (first.days, first.rows_inserted, first.rows_read) == (1, len(before), len(before))
        second = restore_events_from_backup(clean, [LOST_DAY])
        assert (second.rows_inserted, second.rows_read) == (0, len(before))
    finally:
        restore_events_from_backup(clean, [LOST_DAY])


@pytest.fixture
def own_backup(clean: Platform, tmp_path: Path) -> Iterator[Platform]:
    """The sample platform reading backups from `tmp_path`; the rows restored are removed."""
    yield dataclasses.replace(
        clean, config=dataclasses.replace(clean.config, backup_storage_url=str(tmp_path))
    )
    with clean.source("events").begin() as conn:
        conn.execute(text("DELETE FROM events WHERE event_id >= :id"), {"id": FIRST_ID})
        conn.execute(text("DELETE FROM restored_rows WHERE row_key >= :id"), {"id": FIRST_ID})


def _write(platform: Platform, day: date, lines: list[str], header: str = HEADER) -> str:
    path = Path(day_path(platform.config.event_backup(), day, ".csv.gz"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(f"{x}\r\n" for x in [header, *lines]).encode()))
    return str(path)


def _event(n: int, day: date, user: str = "7", session: str = "70", kind: str = "view") -> str:
    return f"{FIRST_ID + n},{user},{session},{day},{day} 10:00:0{n % 10},{kind}"


def test_empty_fields_are_restored_as_null(own_backup: Platform) -> None:
    _write(own_backup, GOOD, [_event(1, GOOD, user="", kind=""), _event(2, GOOD)])

    assert restore_events_from_backup(own_backup, [GOOD]).rows_inserted == 2

    rows = _rows(own_backup, "event_id >= :id", {"id": FIRST_ID})
    assert [(r[1], r[5]) for r in rows] == [(None, None), (7, "view")]


def test_a_key_already_stored_under_another_day_is_kept_and_the_rest_inserted(
    own_backup: Platform,
) -> None:
    with own_backup.source("events").begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES (:id, 1, 1, :d, :at, 'x')"
            ),
            {"id": FIRST_ID + 1, "d": date(2029, 12, 31), "at": datetime(2029, 12, 31, 9)},
        )
    _write(own_backup, GOOD, [_event(1, GOOD), _event(2, GOOD)])

    assert restore_events_from_backup(own_backup, [GOOD]).rows_inserted == 1

    rows = _rows(own_backup, "event_id >= :id", {"id": FIRST_ID})
    assert [(r[0], str(r[3])) for r in rows] == [
        (FIRST_ID + 1, "2029-12-31"),
        (FIRST_ID + 2, str(GOOD)),
    ]


def test_a_row_of_another_day_stops_the_restore_and_keeps_the_days_before(
    own_backup: Platform,
) -> None:
    _write(own_backup, GOOD, [_event(1, GOOD)])
    path = _write(own_backup, BAD, [_event(2, BAD), _event(3, GOOD), _event(4, BAD)])

    with pytest.raises(
        BackupFileError,
        match=rf"{re.escape(path)} line 3 \(day 2030-01-02\): event_date is '2030-01-01'",
    ):
        restore_events_from_backup(own_backup, [GOOD, BAD])

    restored = _rows(own_backup, "event_id >= :id", {"id": FIRST_ID})
    assert [r[0] for r in restored] == [FIRST_ID + 1]  # the bad day is rolled back whole


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (_event(2, BAD, session="seventy"), "session_id"),
        (_event(2, BAD, user="x7"), "user_id"),
        ("abc,7,70,2030-01-02,2030-01-02 10:00:00,view", "event_id"),
        (f"{FIRST_ID + 2},7,70,2030-01-02,not-a-time,view", "occurred_at"),
    ],
)
def test_a_field_of_the_wrong_type_is_named_with_its_line(
    own_backup: Platform, line: str, field: str
) -> None:
    path = _write(own_backup, BAD, [_event(1, BAD), line, _event(3, BAD)])

    with pytest.raises(BackupFileError) as info:
        restore_events_from_backup(own_backup, [BAD])

    assert path in str(info.value) and "line 3" in str(info.value) and field in str(info.value)
    assert _rows(own_backup, "event_id >= :id", {"id": FIRST_ID}) == []


def test_a_row_with_a_missing_field_is_named_with_its_line(own_backup: Platform) -> None:
    path = _write(own_backup, BAD, [_event(1, BAD), f"{FIRST_ID + 2},7,70,2030-01-02"])

    with pytest.raises(BackupFileError, match=rf"{re.escape(path)}.*line 3"):
        restore_events_from_backup(own_backup, [BAD])


def test_a_file_with_another_header_is_refused_before_any_row(own_backup: Platform) -> None:
    header = "event_id,user_id,session_id,event_date,occurred_at"
    path = _write(own_backup, BAD, [_event(1, BAD)], header=header)

    with pytest.raises(
        BackupFileError, match=rf"{re.escape(path)} line 1 \(day 2030-01-02\): header is '{header}'"
    ):
        restore_events_from_backup(own_backup, [BAD])


def test_a_truncated_file_is_refused_and_its_day_rolled_back(own_backup: Platform) -> None:
    path = Path(_write(own_backup, BAD, [_event(n, BAD) for n in range(1, 2000)]))
    path.write_bytes(path.read_bytes()[:-200])

    with pytest.raises(BackupFileError, match=re.escape(str(path))):
        restore_events_from_backup(own_backup, [BAD])

    assert _rows(own_backup, "event_id >= :id", {"id": FIRST_ID}) == []
