"""Every fault kind, on every pipeline, fails in a way that names its kind and partition."""

from __future__ import annotations

import pytest

from faults import active_faults, clear_faults, inject, publishing_fault
from faults.catalog import DETECTED_BY_VALIDATION, VARIANTS, UnknownFaultError, applies
from tests.warehouse.sample import GOLDEN, PARTITIONS
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.pipelines import get_pipeline
from warehouse.runner import run_pipeline, validate_partition

ABSORBED = frozenset({"column_added"})  # an added source column is recorded, not fatal
CASES = [
    (kind, variant)
    for kind, variants in VARIANTS.items()
    for variant in variants
    if kind != FailureKind.REPORT_PUBLISHING and variant not in ABSORBED
]


@pytest.mark.parametrize("pipeline", list(PARTITIONS))
@pytest.mark.parametrize(("kind", "variant"), CASES, ids=[v for _, v in CASES])
def test_fault_is_detected_and_classified(
    clean: Platform, pipeline: str, kind: FailureKind, variant: str
) -> None:
    partition = PARTITIONS[pipeline]
    if not applies(variant, get_pipeline(pipeline).primary_table):
        with pytest.raises(UnknownFaultError, match="needs a second copy"):
            inject(clean, kind, pipeline, partition, variant)
        return
    inject(clean, kind, pipeline, partition, variant)
    check = validate_partition if variant in DETECTED_BY_VALIDATION else run_pipeline
    with pytest.raises(PipelineFailure) as info:
        check(clean, pipeline, partition)
    assert (info.value.kind, info.value.partition, info.value.pipeline) == (
        kind,
        partition,
        pipeline,
    )
    assert info.value.payload()["kind"] == kind.value
    clear_faults(clean, data=True)
    assert active_faults(clean.warehouse) == []
    result = run_pipeline(clean, pipeline, partition)
    assert (
        result.outputs.report_csv.read_text()
        == (GOLDEN / f"{pipeline}__{partition}.csv").read_text()
    )


@pytest.mark.parametrize("pipeline", list(PARTITIONS))
def test_an_added_source_column_is_absorbed_and_recorded(
    clean: Platform, pipeline: str, caplog: pytest.LogCaptureFixture
) -> None:
    partition = PARTITIONS[pipeline]
    inject(clean, "schema_drift", pipeline, partition, "column_added")
    result = run_pipeline(clean, pipeline, partition)
    assert "ingest_batch_id added" in caplog.text
    assert (
        result.outputs.report_csv.read_text()
        == (GOLDEN / f"{pipeline}__{partition}.csv").read_text()
    )


def test_report_publishing_fault_is_a_record_of_one_partition(clean: Platform) -> None:
    inject(clean, "report_publishing", "aggregate_profit", "2026-03")
    fault = publishing_fault(clean.warehouse, "aggregate_profit", "2026-03")
    assert fault is not None and fault.params == {"status": 503}
    assert publishing_fault(clean.warehouse, "aggregate_profit", "2026-04") is None
    cleared = clear_faults(clean)
    assert [f.kind for f in cleared] == [FailureKind.REPORT_PUBLISHING]
    assert publishing_fault(clean.warehouse, "aggregate_profit", "2026-03") is None


def test_clear_without_data_keeps_data_faults(clean: Platform) -> None:
    inject(clean, "data_quality", "aggregate_profit", "2026-03")
    inject(clean, "source_outage", "aggregate_profit", "2026-03")
    assert [f.variant for f in clear_faults(clean)] == ["unreachable"]
    assert [f.variant for f in active_faults(clean.warehouse)] == ["null_critical"]


def test_crash_leaves_a_detectable_half_written_partition(clean: Platform) -> None:
    run_pipeline(clean, "aggregate_profit", "2026-03")
    inject(clean, "etl_job_failure", "aggregate_profit", "2026-03", "crash_mid_run")
    with pytest.raises(PipelineFailure, match="half-written"):
        run_pipeline(clean, "aggregate_profit", "2026-03")
    clear_faults(clean)  # the crash record goes; the half-written partition stays
    with pytest.raises(PipelineFailure) as info:
        validate_partition(clean, "aggregate_profit", "2026-03")
    assert info.value.kind == FailureKind.ETL_JOB_FAILURE
    assert "ledger_consistent" in info.value.detail
