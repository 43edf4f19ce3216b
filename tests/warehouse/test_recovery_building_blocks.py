"""Recovery building blocks: source counts, restore from backup, annotations, checks."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, text

from faults import inject
from tests.warehouse.fixtures import at
from tests.warehouse.sample import GOLDEN
from warehouse.annotations import annotate
from warehouse.db import Platform
from warehouse.event_restore import restore_events_from_backup
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.runner import run_pipeline, validate_partition
from warehouse.schema import migrate, table_names
from warehouse.source_counts import source_counts


def test_source_counts_match_after_a_run(clean: Platform) -> None:
    run_pipeline(clean, "aggregate_profit", "2026-03")
    counts = source_counts(clean, *at(clean, "aggregate_profit", "2026-03"))
    assert counts.matches and counts.source > 0


def test_late_events_are_restored_from_backup(clean: Platform) -> None:
    inject(clean, "late_arriving_data", "aggregate_engagement", "2026-03")
    with pytest.raises(PipelineFailure) as info:
        run_pipeline(clean, "aggregate_engagement", "2026-03")
    assert info.value.kind == FailureKind.LATE_ARRIVING_DATA
    assert restore_events_from_backup(clean, [date(2026, 3, 31)]).rows_inserted > 0
    result = run_pipeline(clean, "aggregate_engagement", "2026-03")
    golden = (GOLDEN / "aggregate_engagement__2026-03.csv").read_text()
    assert result.outputs.report_csv.read_text() == golden


def test_swing_needs_an_annotation(clean: Platform) -> None:
    run_pipeline(clean, "aggregate_engagement", "2026-02")
    run_pipeline(clean, "aggregate_engagement", "2026-03")
    with clean.warehouse.begin() as conn:
        conn.execute(
            text("UPDATE engagement_monthly SET mau = mau * 2 WHERE partition_key = '2026-02'")
        )
    with pytest.raises(PipelineFailure, match="no_unannotated_swing"):
        validate_partition(clean, "aggregate_engagement", "2026-03")
    annotate(clean, *at(clean, "aggregate_engagement", "2026-03"), "marketing campaign ended", "A")
    validate_partition(clean, "aggregate_engagement", "2026-03")
    with clean.warehouse.begin() as conn:
        conn.execute(text("DELETE FROM annotations"))
    run_pipeline(clean, "aggregate_engagement", "2026-02")


def test_zero_length_sessions_fail_the_duration_check(clean: Platform) -> None:
    with clean.warehouse.begin() as conn:
        before = conn.execute(text("SELECT duration_s FROM sessions WHERE session_id = 1")).scalar()
        conn.execute(text("UPDATE sessions SET duration_s = 0 WHERE session_id = 1"))
    try:
        with pytest.raises(PipelineFailure, match="session_duration_positive") as info:
            run_pipeline(clean, "aggregate_engagement", "2025-01")
        assert info.value.kind == FailureKind.DATA_QUALITY
    finally:
        with clean.warehouse.begin() as conn:
            conn.execute(
                text("UPDATE sessions SET duration_s = :d WHERE session_id = 1"), {"d": before}
            )


def test_alembic_migration_creates_the_warehouse_tables(tmp_path) -> None:
    from warehouse.db import engine_for

    engine = engine_for(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    tables = table_names(engine)
    assert {"partition_runs", "profit_monthly", "alembic_version"} <= tables
    assert "injected_faults" not in tables  # the fault layer's own table, not the warehouse's
    columns = {c["name"] for c in inspect(engine).get_columns("partition_runs")}
    assert {"failing_checks", "checked_at"} <= columns
    engine.dispose()


def test_upgrade_from_0001_makes_old_complete_partitions_unchecked(tmp_path) -> None:
    from warehouse.db import engine_for

    engine = engine_for(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO partition_runs (pipeline, partition_key, status, started_at)
                    VALUES ('aggregate_profit', '2026-03', 'complete', CURRENT_TIMESTAMP)""")
        )
    migrate(engine)
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM partition_runs")).scalar_one()
    assert status == "unchecked"
    engine.dispose()
