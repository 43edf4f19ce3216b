"""`runbook oncall`, `runbook incidents` and `runbook audit` through the real command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runbook_cli.main import app
from tests.governance.conftest import BASE, migrated_ledger

T0 = datetime(2026, 1, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def governance_file(tmp_path: Path) -> Path:
    text = BASE.replace("WEEKDAY", "monday").replace("TIME", "09:00")
    text = text.replace("ZONE", "Europe/London")
    text += "holidays:\n  - {engineer: B, from: 2026-02-09, to: 2026-02-13}\n"
    text += "overrides:\n  - {week: 2026-02-23, primary: D, backup: A, reason: trade}\n"
    path = tmp_path / "governance.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.db'}"


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_oncall_table_says_why(governance_file: Path) -> None:
    out = _run("oncall", "--at", "2026-02-04T12:00", "--weeks", "4",
               "--governance", str(governance_file))  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == "On call, 4 week(s) from 2026-02-04 Wed 12:00 GMT (Europe/London); * = then:"
    # B's holiday starts at midnight before this week's last handoff: C backs A up for
    # those nine hours only, a split week
    assert lines[2].split(maxsplit=11) == [
        "*", "2026-02-02", "Mon", "09:00", "GMT", "2026-02-09", "Mon", "00:00", "GMT",
        "A", "B", "rotation",
    ]  # fmt: skip
    assert lines[3].endswith(
        "A        C        rotation; backup C covers B's hours: B on holiday 2026-02-09..2026-02-13"
    )
    assert lines[4].endswith("C        D        swap with B: B on holiday 2026-02-09..2026-02-13")
    assert lines[5].endswith("B        C        swap with C: C covered B's week")
    assert lines[6].endswith("D        A        override: trade")


def test_oncall_reports_a_broken_file_with_positions(tmp_path: Path) -> None:
    bad = tmp_path / "governance.yaml"
    bad.write_text(
        BASE.replace("WEEKDAY", "mondays").replace("TIME", "09:00").replace("ZONE", "UTC")
    )
    result = CliRunner().invoke(app, ["oncall", "--governance", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:22:22: rotation.handoff.weekday: Input should be 'monday'" in result.output


def test_incidents_and_audit(governance_file: Path, db: str) -> None:
    ledger = migrated_ledger(db)
    incident = ledger.incidents.open("aggregate_profit", "etl_failure", T0, partition="2026-01")
    ledger.incidents.record_state(incident.id, "awaiting_approval", at=T0 + timedelta(minutes=5))
    request = ledger.approvals.record_request(incident.id, "run-1", "paused-1", ["C", "D"],
                                             requested_at=T0 + timedelta(minutes=5))  # fmt: skip
    ledger.approvals.record_answer(
        request.id,
        "E",
        "approve",
        authorized=False,
        reason="not on call",
        answered_at=T0 + timedelta(minutes=6),
    )
    ledger.dispose()
    out = _run("incidents", "--db", db, "--governance", str(governance_file),
               "--at", "2026-01-21T13:00Z")  # fmt: skip
    row = out.splitlines()[1].split()
    assert row == [str(incident.id), "aggregate_profit", "2026-01", "etl_failure", "B", "C/D",
                   "awaiting_approval", "1h00m", "left"]  # fmt: skip
    story = _run("audit", str(incident.id), "--db", db).splitlines()
    assert (
        story[0] == f"incident {incident.id}: aggregate_profit etl_failure — now awaiting_approval"
    )
    assert [line[21:43].strip() for line in story[1:]] == [
        "opened", "awaiting_approval", "approval requested", "answer approve",
    ]  # fmt: skip
    assert story[-1].endswith("E (refused: not on call)")
    missing = CliRunner().invoke(app, ["audit", "999", "--db", db])
    assert missing.exit_code == 1 and "no incident 999" in missing.output
