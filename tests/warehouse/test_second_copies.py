"""Damaged second copies write nothing and name file, line and day; restored rows can be
replaced from a corrected copy, never a row the source delivered itself."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from foundation.errors import is_terminal
from warehouse.db import Platform
from warehouse.event_restore import restore_events_from_backup
from warehouse.logs_storage import EVENT_COLUMNS, day_path
from warehouse.second_copies import DamagedCopyError
from warehouse.user_restore import restore_users_from_logs

DAY = date(2030, 2, 3)
FIRST_ID = 9_200_000_000
HEADER = ",".join(EVENT_COLUMNS)


@pytest.fixture
def own_copies(clean: Platform, tmp_path: Path) -> Iterator[Platform]:
    """The sample platform reading its second copies from `tmp_path`; what they restored
    is removed afterwards."""
    config = dataclasses.replace(
        clean.config,
        backup_storage_url=str(tmp_path / "backup"),
        activity_logs_url=str(tmp_path / "logs"),
    )
    yield dataclasses.replace(clean, config=config)
    with clean.warehouse.begin() as conn:
        for table in ("events", "registrations", "subscription_cancellations"):
            key = "event_id" if table == "events" else "user_id"
            conn.execute(text(f"DELETE FROM {table} WHERE {key} >= :id"), {"id": FIRST_ID})
        conn.execute(text("DELETE FROM restored_rows WHERE row_key >= :id"), {"id": FIRST_ID})


def _backup(platform: Platform, lines: list[str]) -> Path:
    path = Path(day_path(platform.config.event_backup(), DAY, ".csv.gz"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(f"{x}\r\n" for x in [HEADER, *lines]).encode()))
    return path


def _event(n: int, kind: str = "app_open", user: int = 7) -> str:
    return f"{FIRST_ID + n},{user},70,{DAY},{DAY} 10:00:0{n % 10},{kind}"


def _events(platform: Platform) -> list[tuple]:
    sql = "SELECT event_id, user_id, event_type FROM events WHERE event_id >= :id ORDER BY 1"
    with platform.warehouse.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), {"id": FIRST_ID})]


def _cut_mid_row(path: Path) -> None:
    """The file's text stops inside its last row (`app_open` cut to `ap`), gzip intact."""
    text_in = gzip.decompress(path.read_bytes()).decode()
    path.write_bytes(gzip.compress(text_in[: text_in.rindex("app_open") + 2].encode()))


def _cut_gzip(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-30])


def _latin1(path: Path) -> None:
    text_in = gzip.decompress(path.read_bytes()).decode().replace("app_open", "caf\u00e9", 1)
    path.write_bytes(gzip.compress(text_in.encode("latin-1")))


def _bad_type(path: Path) -> None:
    text_in = gzip.decompress(path.read_bytes()).decode().replace("app_open", "ap", 1)
    path.write_bytes(gzip.compress(text_in.encode()))


@pytest.mark.parametrize(
    ("damage", "line", "what"),
    [
        (_cut_mid_row, 4, "the text stops mid-row"),
        (_cut_gzip, None, "not a complete gzip file"),
        (_latin1, 2, "not UTF-8 text"),
        (_bad_type, 2, "event_type 'ap' is not one of app_open"),
    ],
)
def test_a_damaged_backup_inserts_nothing_and_names_file_line_and_day(
    own_copies: Platform, damage: object, line: int | None, what: str
) -> None:
    path = _backup(own_copies, [_event(1), _event(2), _event(3)])
    damage(path)  # type: ignore[operator]

    with pytest.raises(DamagedCopyError) as info:
        restore_events_from_backup(own_copies, [DAY])

    message = str(info.value)
    assert str(path) in message and f"(day {DAY})" in message and what in message
    if line is not None:
        assert f"{path} line {line} " in message
    assert f"Next: restore a good copy of {path}" in message
    assert is_terminal(info.value)
    assert _events(own_copies) == []


def test_a_truncated_row_stops_the_restore_and_the_good_copy_restores_every_row(
    own_copies: Platform,
) -> None:
    good = [_event(1), _event(2), _event(3)]
    path = _backup(own_copies, good)
    _cut_mid_row(path)
    with pytest.raises(DamagedCopyError, match=rf"line 4 \(day {DAY}\): the text stops mid-row"):
        restore_events_from_backup(own_copies, [DAY])
    assert _events(own_copies) == []

    _backup(own_copies, good)  # the operator puts the good copy back
    result = restore_events_from_backup(own_copies, [DAY])

    assert result.rows_inserted == 3
    assert [r[2] for r in _events(own_copies)] == ["app_open"] * 3


def test_a_corrected_copy_replaces_the_rows_restored_from_the_wrong_one_and_only_those(
    own_copies: Platform,
) -> None:
    with own_copies.warehouse.begin() as conn:  # the source delivered event 9 itself
        conn.execute(
            text(
                f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
                "(:id, 1, 70, :d, :at, 'view')"
            ),
            {"id": FIRST_ID + 9, "d": DAY, "at": f"{DAY} 09:00:00"},
        )
    _backup(own_copies, [_event(1, user=666), _event(2, "share"), _event(9, "click")])
    assert restore_events_from_backup(own_copies, [DAY]).rows_inserted == 2

    _backup(own_copies, [_event(1), _event(3), _event(9, "click")])  # corrected copy
    restore_events_from_backup(own_copies, [DAY])

    assert _events(own_copies) == [
        (FIRST_ID + 1, 7, "app_open"),  # replaced
        (FIRST_ID + 3, 7, "app_open"),  # event 2 was only in the wrong copy: gone
        (FIRST_ID + 9, 1, "view"),  # the source's own row, untouched
    ]
    with own_copies.warehouse.connect() as conn:
        records = conn.execute(
            text("SELECT row_key, file FROM restored_rows WHERE row_key >= :id ORDER BY 1"),
            {"id": FIRST_ID},
        ).all()
    assert [(k - FIRST_ID, Path(f).name) for k, f in records] == [
        (1, "03.csv.gz"),
        (3, "03.csv.gz"),
    ]


def _log(platform: Platform, records: list[dict | str]) -> Path:
    path = Path(day_path(platform.config.activity_logs(), DAY, ".jsonl.gz"))
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_bytes(gzip.compress("".join(f"{x}\n" for x in lines).encode()))
    return path


def _user(n: int, kind: str = "registration", region: str | None = "EU") -> dict:
    return {"ts": f"{DAY} 08:00:0{n}", "user_id": FIRST_ID + n, "type": kind, "region": region}


def _registrations(platform: Platform) -> list[tuple]:
    sql = "SELECT user_id, region_code FROM registrations WHERE user_id >= :id ORDER BY 1"
    with platform.warehouse.connect() as conn:
        return [(k - FIRST_ID, r) for k, r in conn.execute(text(sql), {"id": FIRST_ID})]


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ('{"ts": "2030-02-03 08:00:02", "user_id": 9200000002, "ty', "not a JSON object"),
        (json.dumps({**_user(2), "type": "signup"}), "type 'signup' is not one of"),
        (json.dumps({**_user(2), "ts": "2030-02-04 08:00:00"}), "ts 2030-02-04 08:00:00 is not"),
        (json.dumps({**_user(2), "user_id": "x"}), "user_id 'x' is not an integer"),
    ],
)
def test_a_damaged_activity_log_inserts_nothing_and_names_its_line(
    own_copies: Platform, line: str, what: str
) -> None:
    path = _log(own_copies, [_user(1), line, _user(3, "cancellation")])

    with pytest.raises(DamagedCopyError) as info:
        restore_users_from_logs(own_copies, [DAY])

    assert f"{path} line 2 (day {DAY}): {what}" in str(info.value)
    assert _registrations(own_copies) == []


def test_a_corrected_activity_log_replaces_its_earlier_restore(own_copies: Platform) -> None:
    _log(own_copies, [_user(1, region="NA"), _user(2)])
    assert restore_users_from_logs(own_copies, [DAY]).rows_inserted == 2

    _log(own_copies, [_user(1, region="EU")])
    restore_users_from_logs(own_copies, [DAY])

    assert _registrations(own_copies) == [(1, "EU")]
