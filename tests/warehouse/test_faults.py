"""Every fault kind, on every pipeline, fails in a way that names its kind and partition."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.warehouse.conftest import GOLDEN, PARTITIONS
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.fault_catalog import DETECTED_BY_VALIDATION, VARIANTS
from warehouse.faults import active_faults, clear_faults, inject, raise_if_publishing_blocked
from warehouse.runner import run_pipeline, validate_partition

CASES = [
    (kind, variant)
    for kind, variants in VARIANTS.items()
    for variant in variants
    if kind != FailureKind.REPORT_PUBLISHING
]


@pytest.mark.parametrize("pipeline", list(PARTITIONS))
@pytest.mark.parametrize(("kind", "variant"), CASES, ids=[v for _, v in CASES])
def test_fault_is_detected_and_classified(
    clean: Engine, pipeline: str, kind: FailureKind, variant: str
) -> None:
    partition = PARTITIONS[pipeline]
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
    assert active_faults(clean, None, None) == []
    result = run_pipeline(clean, pipeline, partition)
    assert (
        result.outputs.report_csv.read_text()
        == (GOLDEN / f"{pipeline}__{partition}.csv").read_text()
    )


def test_report_publishing_fault_is_a_record_the_portal_client_honours(clean: Engine) -> None:
    inject(clean, "report_publishing", "aggregate_profit", "2026-03")
    with pytest.raises(PipelineFailure) as info:
        raise_if_publishing_blocked(clean, "aggregate_profit", "2026-03")
    assert info.value.kind == FailureKind.REPORT_PUBLISHING
    raise_if_publishing_blocked(clean, "aggregate_profit", "2026-04")
    cleared = clear_faults(clean)
    assert [f.kind for f in cleared] == [FailureKind.REPORT_PUBLISHING]
    raise_if_publishing_blocked(clean, "aggregate_profit", "2026-03")


def test_clear_without_data_keeps_data_faults(clean: Engine) -> None:
    inject(clean, "data_quality", "aggregate_profit", "2026-03")
    inject(clean, "source_outage", "aggregate_profit", "2026-03")
    assert [f.variant for f in clear_faults(clean)] == ["unreachable"]
    assert [f.variant for f in active_faults(clean, None, None)] == ["null_critical"]


def test_crash_leaves_a_detectable_half_written_partition(clean: Engine) -> None:
    run_pipeline(clean, "aggregate_profit", "2026-03")
    inject(clean, "etl_job_failure", "aggregate_profit", "2026-03", "crash_mid_run")
    with pytest.raises(PipelineFailure, match="half-written"):
        run_pipeline(clean, "aggregate_profit", "2026-03")
    clear_faults(clean)  # the crash record goes; the half-written partition stays
    with pytest.raises(PipelineFailure) as info:
        validate_partition(clean, "aggregate_profit", "2026-03")
    assert info.value.kind == FailureKind.ETL_JOB_FAILURE
    assert "ledger_consistent" in info.value.detail
