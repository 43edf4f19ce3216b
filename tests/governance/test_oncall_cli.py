"""`runbook oncall` for machines and calendars: --json, --ics (parsed back with icalendar),
--check for CI (exit code on coverage gaps), warnings on repeated holidays, the start."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from typer.testing import CliRunner

from runbook_cli.main import app
from tests.governance.conftest import BASE

LONDON = ZoneInfo("Europe/London")
ALL_AWAY = "".join(
    f"  - {{engineer: {e}, from: 2026-03-16, to: 2026-03-20}}\n" for e in "ABCD"
)  # week 10 (C's): everyone is away from Monday 16 March, in week 9's last hours too


def _file(tmp_path: Path, holidays: str = "", overrides: str = "") -> Path:
    text = BASE.replace("WEEKDAY", "monday").replace("TIME", "09:00")
    text = text.replace("ZONE", "Europe/London")
    if holidays:
        text += "holidays:\n" + holidays
    if overrides:
        text += "overrides:\n" + overrides
    path = tmp_path / "governance.yaml"
    path.write_text(text)
    return path


def _invoke(*args: str) -> object:
    return CliRunner().invoke(app, ["oncall", *args])


def test_check_passes_when_every_week_is_covered(tmp_path: Path) -> None:
    holidays = "  - {engineer: B, from: 2026-02-09, to: 2026-02-13}\n"
    result = _invoke("--check", "--at", "2026-01-05T09:00", "--governance",
                     str(_file(tmp_path, holidays)))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no coverage gaps in 26 week(s) from 2026-01-05 Mon 09:00 GMT" in result.stderr


def test_check_fails_on_a_coverage_gap_and_names_it(tmp_path: Path) -> None:
    result = _invoke("--check", "--weeks", "12", "--at", "2026-01-05T09:00",
                     "--governance", str(_file(tmp_path, ALL_AWAY)))  # fmt: skip
    assert result.exit_code == 1
    # week 9's last nine hours are a gap, not the whole week
    assert (
        "coverage gap: 2026-03-16 Mon 00:00 GMT to 2026-03-16 Mon 09:00 GMT: no primary and "
        "no backup; rotation; coverage gap: B on holiday 2026-03-16..2026-03-20 and nobody "
        "else is free"
    ) in result.stderr
    assert "2 coverage gap(s), 120 hours in 12 week(s)" in result.stderr
    shown = result.output.splitlines()  # as a terminal shows them: the gap lines come first
    assert shown[0].startswith("coverage gap: ") and shown[1].startswith("coverage gap: ")
    assert shown[2].startswith("On call, 12 week(s)") and shown[-1].startswith("2 coverage gap")
    table = result.stdout.splitlines()
    assert table[11].split()[8:10] == ["B", "C"]  # week 9 until midnight
    assert table[12].split()[8:10] == ["(gap)", "(gap)"]  # then nobody


def test_check_looks_only_at_the_weeks_asked_for(tmp_path: Path) -> None:
    result = _invoke("--check", "--weeks", "8", "--at", "2026-01-05",
                     "--governance", str(_file(tmp_path, ALL_AWAY)))  # fmt: skip
    assert result.exit_code == 0, result.output


def test_json_lists_assignments_with_local_times_and_gaps(tmp_path: Path) -> None:
    result = _invoke("--json", "--weeks", "11", "--at", "2026-01-05T09:00",
                     "--governance", str(_file(tmp_path, ALL_AWAY)))  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["timezone"] == "Europe/London"
    assert doc["rotation_start"] == "2026-01-05T09:00:00+00:00"
    assert doc["gaps"] == 2 and doc["warnings"] == []
    first, gap = doc["assignments"][0], doc["assignments"][10]
    assert first == {
        "start": "2026-01-05T09:00:00+00:00", "end": "2026-01-12T09:00:00+00:00",
        "week_start": "2026-01-05T09:00:00+00:00", "week_end": "2026-01-12T09:00:00+00:00",
        "week_primary": "A", "primary": "A", "backup": "B", "gaps": [], "reasons": ["rotation"],
    }  # fmt: skip
    assert (gap["primary"], gap["backup"], gap["gaps"]) == (None, None, ["primary", "backup"])


def test_json_in_summer_time_carries_the_offset(tmp_path: Path) -> None:
    result = _invoke("--json", "--weeks", "1", "--at", "2026-07-01",
                     "--governance", str(_file(tmp_path)))  # fmt: skip
    row = json.loads(result.stdout)["assignments"][0]
    assert (row["start"], row["end"]) == ("2026-06-29T09:00:00+01:00", "2026-07-06T09:00:00+01:00")


def test_asking_before_the_start_says_there_is_no_rotation_yet(tmp_path: Path) -> None:
    result = _invoke("--json", "--weeks", "2", "--at", "2025-12-01",
                     "--governance", str(_file(tmp_path)))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "no rotation yet at 2025-12-01 Mon 00:00 GMT: it begins 2026-01-05 Mon 09:00 GMT; "
        "showing from then"
    ) in result.stderr
    doc = json.loads(result.stdout)
    assert doc["no_rotation_before_start"] is True
    assert [a["primary"] for a in doc["assignments"]] == ["A", "B"]


def test_duplicate_and_overlapping_holidays_are_warnings_with_positions(tmp_path: Path) -> None:
    holidays = (
        "  - {engineer: B, from: 2026-08-03, to: 2026-08-14}\n"
        "  - {engineer: B, from: 2026-08-03, to: 2026-08-14}\n"
        "  - {engineer: B, from: 2026-08-10, to: 2026-08-21}\n"
        "  - {engineer: C, from: 2026-08-10, to: 2026-08-21}\n"
    )
    path = _file(tmp_path, holidays)
    result = _invoke("--governance", str(path))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {path}:26:5: holidays[1]: B's holiday 2026-08-03..2026-08-14 repeats "
        "holidays[0]; keep one entry per absence",
        f"warning: {path}:27:5: holidays[2]: B's holiday 2026-08-10..2026-08-21 overlaps "
        "2026-08-03..2026-08-14 in holidays[0]; keep one entry per absence",
    ]


def test_ics_feeds_parse_back_with_primary_backup_and_the_reason(tmp_path: Path) -> None:
    holidays = "  - {engineer: B, from: 2026-02-09, to: 2026-02-13}\n" + ALL_AWAY
    out = tmp_path / "feeds"
    result = _invoke("--ics", str(out), "--weeks", "11", "--at", "2026-01-05T09:00",
                     "--governance", str(_file(tmp_path, holidays)))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "engineer-A.ics", "engineer-B.ics", "engineer-C.ics", "engineer-D.ics", "team.ics",
    ]  # fmt: skip

    team = icalendar.Calendar.from_ical((out / "team.ics").read_bytes())
    events = sorted(team.events, key=lambda e: (e.start, str(e["UID"])))
    assert len(events) == 28  # a primary and a backup event for each of 14 stretches:
    assert len({str(e["UID"]) for e in events}) == 28  # 11 weeks, 3 split by short absences
    week5 = [e for e in events if e.start == datetime(2026, 2, 9, 9, 0, tzinfo=LONDON)]
    assert sorted(str(e["SUMMARY"]) for e in week5) == [
        "On call (backup): D", "On call (primary): C",
    ]  # fmt: skip
    assert "Why: swap with B: B on holiday 2026-02-09..2026-02-13" in str(week5[0]["DESCRIPTION"])
    assert week5[0].end - week5[0].start == timedelta(days=7)
    assert str(week5[0].start.tzinfo) == "Europe/London"  # with the zone, not floating
    assert [tz["TZID"] for tz in team.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(team["UID"]) == "team@runbook-oncall"  # the same feed on every publication
    gaps = [str(e["SUMMARY"]) for e in events if e.start == datetime(2026, 3, 16, tzinfo=LONDON)]
    assert sorted(gaps) == ["Coverage gap: no backup on call", "Coverage gap: no primary on call"]

    b = icalendar.Calendar.from_ical((out / "engineer-B.ics").read_bytes())
    shifts = [(e.start.date().isoformat(), str(e["SUMMARY"])) for e in b.events]
    assert ("2026-02-16", "On call: primary, backup C") in shifts
    assert ("2026-01-05", "On call: backup, primary A") in shifts
    assert all(not day.startswith("2026-02-09") for day, _ in shifts)  # B's holiday week
    assert str(b["X-WR-CALNAME"]) == "On call: B"


@pytest.mark.parametrize("flag", ["--json", "--ics"])
def test_a_broken_file_fails_every_output(tmp_path: Path, flag: str) -> None:
    bad = tmp_path / "governance.yaml"
    bad.write_text(BASE.replace("WEEKDAY", "mondays").replace("TIME", "9").replace("ZONE", "X"))
    args = [flag] if flag == "--json" else [flag, str(tmp_path / "out")]
    result = _invoke(*args, "--governance", str(bad))
    assert result.exit_code == 1
    assert not (tmp_path / "out").exists()


def test_ics_and_json_agree_on_split_weeks_and_gaps(tmp_path: Path) -> None:
    holidays = "  - {engineer: D, from: 2026-05-25, to: 2026-05-25}\n" + ALL_AWAY
    path = _file(tmp_path, holidays)
    out = tmp_path / "feeds"
    common = ["--weeks", "26", "--at", "2026-01-05T09:00", "--governance", str(path)]
    doc = json.loads(_invoke("--json", *common).stdout)
    assert _invoke("--ics", str(out), *common).exit_code == 0
    team = icalendar.Calendar.from_ical((out / "team.ics").read_bytes())
    from_ics = sorted(
        (e.start.isoformat(), e.end.isoformat(), str(e["SUMMARY"])) for e in team.events
    )
    from_json = sorted(
        (datetime.fromisoformat(row["start"]).astimezone(LONDON).isoformat(),
         datetime.fromisoformat(row["end"]).astimezone(LONDON).isoformat(),
         f"On call ({role}): {row[role]}" if row[role] else f"Coverage gap: no {role} on call")
        for row in doc["assignments"]
        for role in ("primary", "backup")
    )  # fmt: skip
    assert from_ics == from_json
    day_off = [r for r in doc["assignments"] if r["start"].startswith("2026-05-25T00:00")]
    assert [(r["week_primary"], r["primary"], r["end"]) for r in day_off] == [
        ("D", "A", "2026-05-25T09:00:00+01:00")
    ]  # D's week: the backup A takes the nine hours of D's day off before the handoff
