"""Params resolve with their checks (grain, type) and joins wait for none of their needs failing."""

from __future__ import annotations

import pytest

from flows.language.catalog import PipelineInfo, load_catalog
from flows.language.models import Param
from flows.language.params import resolve_params
from flows.language.partitions import PartitionRule
from flows.language.validator import validate_text
from flows.runtime.compiler import compile_runbook
from flows.runtime.execution import RunbookExecution
from recovery_tasks.context import StepOutcome
from recovery_tasks.services import RunServices

WEEK = PartitionRule("aggregate_growth", "week")


def test_shipped_pipelines_carry_the_grain_of_their_warehouse_definition() -> None:
    grains = {name: info.grain for name, info in load_catalog().items()}
    assert grains == {
        "unit_profit_experiments": "day",
        "aggregate_profit": "fiscal_month",
        "aggregate_growth": "week",
        "daily_growth_experiments": "day",
        "aggregate_engagement": "fiscal_month",
    }


@pytest.mark.parametrize(
    ("value", "why"),
    [("2026-10-14", ""), ("2026-W54", " (Invalid week: 54)")],
)
def test_a_partition_param_is_checked_against_its_pipelines_grain(value: str, why: str) -> None:
    with pytest.raises(ValueError) as raised:
        resolve_params({"partition": Param()}, {"partition": value}, {}, {"partition": WEEK})
    assert str(raised.value) == (
        f"param 'partition': '{value}' is not a partition of pipeline 'aggregate_growth'{why}; "
        "expected YYYY-Www, an ISO week, e.g. 2026-W43"
    )


def test_a_param_of_the_wrong_type_is_said_in_runbook_words() -> None:
    with pytest.raises(ValueError) as raised:
        resolve_params({"limit": Param(type="integer")}, {"limit": "many"}, {})
    assert str(raised.value) == "param 'limit' wants a whole number, e.g. 3 (got 'many')"


def test_a_param_passed_whole_as_a_steps_partition_is_a_partition_of_that_steps_pipeline() -> None:
    catalog = {"aggregate_growth": PipelineInfo("aggregate_growth", False, "week")}
    runbook = validate_text(
        """
runbook: weekly
pipeline: aggregate_growth
params:
  partition: {from: "{{ event.payload.partition }}"}
  label: {default: x}
steps:
  - id: rerun
    uses: transforms.rerun
    with: {partition: "{{ params.partition }}"}
  - id: note
    uses: test.echo
    with: {value: "{{ params.label }}"}
""",
        "weekly.yaml",
        catalog,  # type: ignore[arg-type]
    )
    assert runbook.partitions == {"partition": WEEK}


JOIN = """
runbook: join
pipeline: unit_profit_experiments
steps:
  - id: a
    uses: test.echo
  - id: b
    uses: test.echo
  - id: all_of_them
    uses: test.echo
    needs: [a, b]
  - id: join
    uses: test.echo
    needs: [a, b]
    trigger_rule: none_failed
"""


@pytest.mark.parametrize(
    ("a", "b", "default", "join"),
    [
        ("completed", "skipped", ("skipped", "b"), None),
        ("skipped", "skipped", ("skipped", "a"), None),
        ("completed", "failed", ("upstream_failed", "b"), ("upstream_failed", "b")),
        ("skipped", "upstream_failed", ("upstream_failed", "b"), ("upstream_failed", "b")),
    ],
)
def test_a_join_runs_unless_a_need_failed_while_the_default_needs_all_to_succeed(
    a: str, b: str, default: tuple[str, str] | None, join: tuple[str, str] | None
) -> None:
    catalog = {"unit_profit_experiments": PipelineInfo("unit_profit_experiments", False)}
    compiled = compile_runbook(validate_text(JOIN, "join.yaml", catalog), record=False)  # type: ignore[arg-type]
    with RunServices.open(record=False) as services:
        execution = RunbookExecution(compiled.runbook, compiled.waves, {}, {}, None, None, services)
    execution.outcomes = {"a": StepOutcome(a), "b": StepOutcome(b)}  # type: ignore[arg-type]

    def blocked(step_id: str) -> tuple[str, str] | None:
        found = execution._blocked_by(execution.steps[step_id])
        return None if found is None else (found[0], found[1].split("'")[1])

    assert blocked("all_of_them") == default
    assert blocked("join") == join
