"""The governance file: the shipped default, and broken files with exact positions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flows.language.catalog import load_catalog
from governance.config import load_governance, parse_governance
from governance.errors import GovernanceConfigError
from tests.governance.conftest import BASE, make_config

REPO_FILE = Path(__file__).resolve().parents[2] / "governance.yaml"


def _errors(text: str) -> list[str]:
    with pytest.raises(GovernanceConfigError) as info:
        parse_governance(text, "governance.yaml")
    return [p.render().splitlines()[0] for p in info.value.problems]


def _base() -> str:
    return BASE.replace("WEEKDAY", "monday").replace("TIME", "09:00").replace("ZONE", "UTC")


def test_the_shipped_file_holds_the_plan() -> None:
    config = load_governance(REPO_FILE)
    owners = {name: (p.primary, p.secondary) for name, p in config.pipelines.items()}
    assert owners == {
        "unit_profit_experiments": ("A", "B"),
        "aggregate_profit": ("B", "A"),
        "aggregate_growth": ("C", "D"),
        "daily_growth_experiments": ("D", "C"),
        "aggregate_engagement": ("A", "D"),
    }
    investor = {n for n, p in config.pipelines.items() if p.investor_reporting}
    assert investor == {"aggregate_profit", "aggregate_growth", "aggregate_engagement"}
    assert {n: p.sla for n, p in config.pipelines.items()} == {
        n: timedelta(hours=4 if n in investor else 24) for n in config.pipelines
    }
    assert config.rotation.order == ["A", "B", "C", "D"]
    assert config.rotation.start.weekday() == 0
    assert config.escalate_after("aggregate_profit") == timedelta(minutes=30)
    assert config.escalate_after("unit_profit_experiments") == timedelta(hours=2)
    assert config.sla_thresholds() == (0.5, 0.75)


def test_the_runbook_catalog_reads_the_shipped_file() -> None:
    catalog = load_catalog(REPO_FILE)
    assert catalog["aggregate_profit"].investor_reporting
    assert not catalog["unit_profit_experiments"].investor_reporting


def test_unknown_engineer_is_reported_where_it_is_written() -> None:
    text = _base().replace("    primary: B\n", "    primary: E\n", 1)
    with pytest.raises(GovernanceConfigError) as info:
        parse_governance(text, "governance.yaml")
    assert str(info.value) == (
        "governance.yaml:10:14: pipelines.aggregate_profit.primary: unknown engineer 'E'; "
        "known: A, B, C, D\n"
        "        primary: E\n"
        "                 ^\n"
        "1 problem."
    )


def test_every_problem_of_a_file_is_reported_together() -> None:
    text = """\
engineers:
  A: {email: a@example.com}
  B: {email: b@example}
  C: {}
pipelines:
  aggregate_profit:
    area: profit
    investor_reporting: true
    primary: E
    secondary: A
    sla: 4hours
    secondray: B
rotation:
  order: [A, B, C, A]
  start: 2026-01-06
  handoff: {weekday: mondy, time: "25:00"}
  timezone: Europe/Londn
holidays:
  - {engineer: B, from: 2026-02-10, to: 2026-02-01}
overrides:
  - {from: "2026-02-03T10:00", to: "2026-02-04", backup: Z}
"""
    assert _errors(text) == [
        "governance.yaml:3:14: engineers.B.email: 'b@example' is not an email address",
        "governance.yaml:4:3: engineers.C: an engineer needs a contact: notify (Apprise URLs), "
        "email or webhook",
        "governance.yaml:9:14: pipelines.aggregate_profit.primary: unknown engineer 'E'; "
        "known: A, B, C",
        "governance.yaml:11:10: pipelines.aggregate_profit.sla: invalid duration '4hours': "
        "write a number with a unit s, m, h or d, e.g. 45s, 30m, 2h, 1d or 1h30m",
        "governance.yaml:12:5: pipelines.aggregate_profit.secondray: unknown key 'secondray'; "
        "did you mean 'secondary'? allowed here: description, area, investor_reporting, "
        "primary, secondary, sla, escalate_after",
        "governance.yaml:14:10: rotation.order: engineers listed twice in the rotation: A",
        "governance.yaml:16:22: rotation.handoff.weekday: Input should be 'monday', 'tuesday', "
        "'wednesday', 'thursday', 'friday', 'saturday' or 'sunday' (got 'mondy')",
        "governance.yaml:16:35: rotation.handoff.time: Input should be in a valid time format, "
        "hour value is outside expected range of 0-23 (got '25:00')",
        "governance.yaml:17:13: rotation.timezone: unknown time zone 'Europe/Londn'; "
        "use an IANA name such as Europe/London",
        "governance.yaml:19:5: holidays[0]: 'to' (2026-02-01) is before 'from' (2026-02-10)",
        "governance.yaml:21:58: overrides[0].backup: unknown engineer 'Z'; known: A, B, C",
    ]


def test_duplicate_keys_are_errors_not_last_one_wins() -> None:
    text = _base().replace("    secondary: A\n", "    secondary: A\n    primary: C\n", 1)
    assert _errors(text) == [
        "governance.yaml:12:5: pipelines.aggregate_profit.primary: duplicate key 'primary' "
        "(first at line 10); YAML would keep only the last one: remove or rename one"
    ]


def test_missing_keys_point_at_their_parent() -> None:
    text = _base().replace("    sla: 4h\n", "", 1)
    assert _errors(text) == [
        "governance.yaml:7:3: pipelines.aggregate_profit: missing required key 'sla'"
    ]


def test_rotation_must_start_on_the_handoff_weekday() -> None:
    text = _base().replace("start: 2026-01-05", "start: 2026-01-06")
    assert _errors(text) == [
        "governance.yaml:19:1: rotation: start 2026-01-06 is a tuesday; it must be a monday "
        "(the handoff weekday)"
    ]


def test_override_weeks_start_on_handoff_days_and_do_not_overlap() -> None:
    text = _base() + (
        "overrides:\n"
        "  - {week: 2026-01-13, primary: C}\n"
        "  - {week: 2026-01-19, primary: C}\n"
        "  - {from: '2026-01-20T10:00', to: '2026-01-21T10:00', primary: D}\n"
    )
    assert _errors(text) == [
        "governance.yaml:25:12: overrides[0].week: 2026-01-13 is a tuesday; on-call weeks "
        "start on monday (the handoff day)",
        "governance.yaml:27:5: overrides[2]: overlaps overrides[1]; say who is on call once",
    ]


def test_pipeline_owners_must_differ_and_overrides_need_a_person() -> None:
    text = _base().replace("    secondary: A\n", "    secondary: B\n", 1) + (
        "overrides:\n  - {week: 2026-01-12}\n"
    )
    assert _errors(text) == [
        "governance.yaml:7:3: pipelines.aggregate_profit: primary and secondary owner are both 'B'",
        "governance.yaml:25:5: overrides[0]: an override names a primary, a backup or both",
    ]


def test_yaml_syntax_errors_and_empty_files() -> None:
    assert _errors("engineers: [A\n") == [
        "governance.yaml:2:1: YAML syntax error: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)"
    ]
    assert _errors("") == [
        "governance.yaml:1:1: expected a mapping (engineers:, pipelines:, rotation: ...); "
        "found an empty file"
    ]


def test_dates_stay_strings_until_pydantic_reads_them() -> None:
    config = make_config(["{engineer: B, from: 2026-02-09, to: 2026-02-13}"])
    assert config.holidays[0].from_.isoformat() == "2026-02-09"
    text = _base().replace("start: 2026-01-05", "start: 2026-02-30")
    assert _errors(text) == [
        "governance.yaml:21:10: rotation.start: Input should be a valid date or datetime, "
        "day value is outside expected range (got '2026-02-30')"
    ]


def test_unknown_pipeline_lookup_lists_the_known_ones() -> None:
    config = make_config()
    with pytest.raises(KeyError, match="unknown pipeline 'nope'; known: aggregate_profit, "):
        config.pipeline("nope")
