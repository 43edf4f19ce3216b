"""`runbook emit` refuses, before sending anything, what the event door would refuse."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from runbook_cli.main import app


@pytest.mark.parametrize(
    ("pipeline", "partition", "reason"),
    [
        ("moon_base", "2026-10", "pipeline 'moon_base' is not in governance.yaml"),
        ("aggregate_profit", "2026-1\u0660", "non-ASCII characters"),
        ("aggregate_profit", "2031-01", "after today plus 1 day(s) of grace"),
        ("aggregate_profit", "2026-10\u200b", "bad fiscal_month partition '2026-10\\\\u200b"),
    ],
    ids=["unknown-pipeline", "non-ascii", "future", "zero-width"],
)
def test_emit_refuses_what_the_door_would_refuse(
    pipeline: str, partition: str, reason: str
) -> None:
    args = ["emit", pipeline, "--kind", "etl_job_failure", "--partition", partition]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "error: the event door would refuse this event" in result.output
    assert reason in result.output
