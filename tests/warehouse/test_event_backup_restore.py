"""A restore from the event backup only adds what is missing: later rows are kept."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import text

from faults import inject
from warehouse.db import Platform
from warehouse.event_restore import restore_events_from_backup
from warehouse.logs_storage import read_event_backup

DAY = date(2026, 3, 31)
LATE_EVENT = 9_000_000_001


def _events_of(platform: Platform, day: date) -> set[int]:
    with platform.source("events").connect() as conn:
        rows = conn.execute(
            text("SELECT event_id FROM events WHERE event_date = :d"), {"d": day}
        ).scalars()
        return set(rows)


@pytest.fixture
def late_event(clean: Platform):
    """An event of DAY that reached the source after DAY's backup was written."""
    with clean.source("events").begin() as conn:
        session_id = conn.execute(
            text("SELECT MIN(session_id) FROM events WHERE event_date = :d"), {"d": DAY}
        ).scalar_one()
        conn.execute(
            text("""INSERT INTO events (event_id, user_id, session_id, event_date, occurred_at,
                                        event_type)
                    VALUES (:id, 1, :s, :d, :at, 'view')"""),
            {"id": LATE_EVENT, "s": session_id, "d": DAY, "at": datetime(2026, 3, 31, 23, 59)},
        )
    yield LATE_EVENT
    with clean.source("events").begin() as conn:
        conn.execute(text("DELETE FROM events WHERE event_id = :id"), {"id": LATE_EVENT})


def test_restore_keeps_events_that_arrived_after_the_backup(
    clean: Platform, late_event: int
) -> None:
    backup = {int(r["event_id"]) for r in read_event_backup(DAY, clean.config.event_backup())}
    assert late_event not in backup
    inject(clean, "late_arriving_data", "aggregate_engagement", "2026-03")  # holds rows back
    held_back = backup - _events_of(clean, DAY)
    assert held_back

    first = restore_events_from_backup(clean, [DAY])

    assert first.rows_inserted == len(held_back)
    assert _events_of(clean, DAY) == backup | {late_event}  # nothing lost, the late one kept
    second = restore_events_from_backup(clean, [DAY])
    assert (second.rows_inserted, second.rows_read) == (0, len(backup))
    assert _events_of(clean, DAY) == backup | {late_event}


def test_restore_refuses_a_day_without_backup_before_writing_anything(clean: Platform) -> None:
    inject(clean, "late_arriving_data", "aggregate_engagement", "2026-03")
    before = _events_of(clean, DAY)
    with pytest.raises(FileNotFoundError, match="no event backup for 2030-01-01"):
        restore_events_from_backup(clean, [DAY, date(2030, 1, 1)])
    assert _events_of(clean, DAY) == before


def _growth_row(platform: Platform, day: date, region: str) -> int | None:
    with platform.warehouse.connect() as conn:
        return conn.execute(
            text("""SELECT registrations FROM growth_daily
                    WHERE partition_key = '2026-W11' AND day = :d AND region_code = :r"""),
            {"d": day, "r": region},
        ).scalar()
