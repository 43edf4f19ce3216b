"""Warnings for valid runbooks that would surprise at run time, each with file:line:col."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.language.catalog import PipelineCatalog, PipelineInfo
from flows.language.plan import make_plan
from flows.language.validator import validate_file
from runbook_cli.main import app

WARNED = Path(__file__).parent.parent / "fixtures" / "runbooks" / "warned"
CATALOG = PipelineCatalog(
    {"aggregate_profit": PipelineInfo("aggregate_profit", True, sla=timedelta(hours=4))},
    frozenset({"A", "B", "C", "D"}),
)
EXPECTED = {
    "gate_after_condition.yaml": [
        "gate_after_condition.yaml:12:12: steps[2].needs: gate 'approve' is skipped whenever step 'backfill' is (`when: incident.kind == 'late_arriving_data'`): for the failure kinds that condition excludes the run ends without an approval and publishes nothing; give 'approve' (or the step that joins the branches) `trigger_rule: none_failed`",
    ],
    "wait_beyond_sla.yaml": [
        "wait_beyond_sla.yaml:8:20: steps[0].with.first_delay: first_delay 5h is longer than aggregate_profit's whole SLA (4h): the step would wait past the deadline; keep it well within the SLA",
        "wait_beyond_sla.yaml:9:17: steps[0].with.max_wait: max_wait 1d is longer than aggregate_profit's whole SLA (4h): the step would wait past the deadline; keep it well within the SLA",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_valid_runbook_that_would_surprise_is_warned_about_where_it_says_so(
    name: str, copied: Callable[[Path], str]
) -> None:
    validated = validate_file(copied(WARNED / name), CATALOG)
    assert [w.render().splitlines()[0] for w in validated.warnings] == EXPECTED[name]
    event = {
        "event": "pipeline.failed",
        "payload": {"kind": "data_quality", "partition": "2026-10"},
    }
    plan = make_plan(validated, event, {})
    assert plan.warnings[: len(EXPECTED[name])] == EXPECTED[name]


def test_a_gate_joined_with_none_failed_is_not_warned_about(tmp_path: Path) -> None:
    text = (WARNED / "gate_after_condition.yaml").read_text()
    fixed = text.replace(
        "    needs: [backfill]\n", "    needs: [backfill]\n    trigger_rule: none_failed\n"
    )
    (tmp_path / "fixed.yaml").write_text(fixed)
    assert validate_file(tmp_path / "fixed.yaml", CATALOG).warnings == []


def test_validate_prints_each_warning_under_the_ok_line(copied: Callable[[Path], str]) -> None:
    result = CliRunner().invoke(app, ["validate", copied(WARNED / "wait_beyond_sla.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("OK   wait_beyond_sla.yaml")
    assert f"warning: {EXPECTED['wait_beyond_sla.yaml'][0]}" in lines
