"""The authoring commands as a runbook author uses them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runbook_cli.main import app

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "runbooks" / "broken"
runner = CliRunner()


def test_validate_reports_ok_for_every_shipped_runbook() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "5 valid, 0 invalid" in result.output
    assert "OK   runbooks/aggregate-profit.yaml  (aggregate-profit: 7 steps)" in result.output


def test_validate_fails_with_positions_and_checks_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("cycle.yaml", "duplicate_key.yaml"):
        shutil.copy(BROKEN / name, tmp_path / name)
    shutil.copy(ROOT / "runbooks" / "aggregate-profit.yaml", tmp_path / "good.yaml")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 1
    assert "cycle.yaml:6:12: steps[0].needs: cycle in needs: a -> c -> b -> a" in result.output
    assert "duplicate_key.yaml:7:5: steps[0].uses: duplicate key 'uses'" in result.output
    assert "OK   good.yaml" in result.output
    assert "1 valid, 2 invalid" in result.output


def test_validate_rejects_two_files_declaring_the_same_runbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for copy in ("a.yaml", "b.yaml"):
        shutil.copy(ROOT / "runbooks" / "aggregate-profit.yaml", tmp_path / copy)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 1
    assert "b.yaml:2:10: runbook: runbook name 'aggregate-profit' is already used by a.yaml" in (
        result.output
    )


def test_plan_resolves_params_from_the_event_and_shows_the_waves(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"event": "pipeline.failed", "payload": {"partition": "2026-W43"}}))
    result = runner.invoke(app, ["plan", "aggregate-growth", "--event", str(event)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == 'params: {"partition": "2026-W43"}'
    assert "wave 1:" in lines and "wave 2:" in lines
    assert "  approve: approval.on_call  [pauses for approval]" in result.output.replace(
        " - Pause for the on-call engineer's approval, with the evidence in the Prefect UI.", ""
    )
    assert '      approved_sha256 = "{{ steps.report.outputs.sha256 }}  (at run time)"' in lines


def test_plan_says_which_param_the_event_lacks(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"event": "pipeline.failed", "payload": {}}))
    result = runner.invoke(app, ["plan", "aggregate-growth", "--event", str(event)])
    assert result.exit_code == 1
    assert "param 'partition'" in result.output


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mermaid", '    approve{"approve<br/><small>approval.on_call</small>"}'),
        ("dot", '    "report" -> "approve";'),
        ("text", "  ⏸ approve (approval.on_call): the run pauses for approval"),
    ],
)
def test_graph_formats(fmt: str, expected: str) -> None:
    result = runner.invoke(app, ["graph", "aggregate-profit", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert expected in result.output.splitlines()


def test_unknown_runbook_lists_the_known_ones() -> None:
    result = runner.invoke(app, ["plan", "aggregate-prof"])
    assert result.exit_code == 1
    assert "no valid runbook named 'aggregate-prof'; runbooks: aggregate-engagement" in (
        result.output
    )
