"""A partition whose blocking checks fail is quarantined, never complete, and no report is
built from it; the last good output stays, and a clean run makes the partition complete again."""

from __future__ import annotations

import pytest

from faults import clear_faults, inject
from tests.warehouse.fixtures import at
from tests.warehouse.sample import GOLDEN, PARTITIONS
from warehouse.checks import run_checks
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.outputs import report_csv, write_outputs
from warehouse.partition_state import PartitionNotReadyError, read_state, record_verdict
from warehouse.runner import run_pipeline, validate_partition
from warehouse.transform import run_transform

FAILED_SAFE = [
    ("late_arriving_data", "held_back"),
    ("data_quality", "null_critical"),
    ("data_quality", "wrong_mapping"),
    ("etl_job_failure", "crash_mid_run"),
]


@pytest.mark.parametrize("pipeline", list(PARTITIONS))
@pytest.mark.parametrize(("kind", "variant"), FAILED_SAFE, ids=[v for _, v in FAILED_SAFE])
def test_a_failed_run_leaves_the_partition_not_complete_and_the_last_report_standing(
    clean: Platform, pipeline: str, kind: str, variant: str
) -> None:
    partition = PARTITIONS[pipeline]
    good = run_pipeline(clean, pipeline, partition).outputs
    last_report = good.report_csv.read_text()
    inject(clean, kind, pipeline, partition, variant)

    with pytest.raises(PipelineFailure) as failure:
        run_pipeline(clean, pipeline, partition)

    state = read_state(clean.warehouse, pipeline, partition)
    if variant == "crash_mid_run":
        assert state.status == "running"
        expected = "half-written"
    else:
        failing = {c["name"] for c in failure.value.evidence["checks"]}
        assert state.status == "quarantined" and set(state.failing_names) == failing
        expected = "quarantined: blocking checks failed: " + ", ".join(state.failing_names)
    with pytest.raises(PartitionNotReadyError, match=expected):
        write_outputs(clean, *at(clean, pipeline, partition))
    assert good.report_csv.read_text() == last_report

    clear_faults(clean, data=True)
    result = run_pipeline(clean, pipeline, partition)

    assert read_state(clean.warehouse, pipeline, partition).status == "complete"
    golden = (GOLDEN / f"{pipeline}__{partition}.csv").read_text()
    assert result.outputs.report_csv.read_text() == golden


def test_a_transformed_partition_is_unchecked_until_its_checks_run(clean: Platform) -> None:
    run_transform(clean, *at(clean, "aggregate_profit", "2026-03"))
    assert read_state(clean.warehouse, "aggregate_profit", "2026-03").status == "unchecked"
    with pytest.raises(PartitionNotReadyError, match="not checked since"):
        report_csv(clean, *at(clean, "aggregate_profit", "2026-03"))
    run_checks(clean, *at(clean, "aggregate_profit", "2026-03"))
    assert read_state(clean.warehouse, "aggregate_profit", "2026-03").status == "complete"
    assert report_csv(clean, *at(clean, "aggregate_profit", "2026-03"))


def test_checking_a_stored_partition_records_what_it_finds(clean: Platform) -> None:
    run_pipeline(clean, "aggregate_growth", "2026-W11")
    inject(clean, "storage_partition", "aggregate_growth", "2026-W11", "missing_partition")
    results = validate_partition(clean, "aggregate_growth", "2026-W11", raise_on_failure=False)
    state = read_state(clean.warehouse, "aggregate_growth", "2026-W11")
    assert state.status == "quarantined"
    assert state.failing_names == [r.name for r in results if not r.passed and r.blocking]
    assert "partition_present" in state.failing_names


def test_a_partition_never_built_has_no_report(clean: Platform) -> None:
    with pytest.raises(PartitionNotReadyError, match="has never been built"):
        report_csv(clean, *at(clean, "aggregate_profit", "2024-01"))


def test_a_verdict_about_a_replaced_partition_is_not_stored(clean: Platform) -> None:
    run_transform(clean, *at(clean, "aggregate_profit", "2026-03"))
    seen = read_state(clean.warehouse, "aggregate_profit", "2026-03")
    target = at(clean, "aggregate_profit", "2026-03")
    run_transform(clean, *target)  # another write, after the checks read
    with clean.warehouse.begin() as conn:
        record_verdict(conn, "aggregate_profit", "2026-03", [], seen)
    assert read_state(clean.warehouse, "aggregate_profit", "2026-03").status == "unchecked"
    run_checks(clean, *at(clean, "aggregate_profit", "2026-03"))
    assert read_state(clean.warehouse, "aggregate_profit", "2026-03").status == "complete"
