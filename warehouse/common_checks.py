"""Checks every pipeline gets, built from its definition, in the order kinds are decided.

The first failing blocking check names the failure kind, so the order matters: a
half-written partition (ETL) explains everything after it, a missing or misaligned partition
(storage) explains count mismatches, incomplete sources (late data) explain wrong totals.
"""

from __future__ import annotations

from warehouse.failures import FailureKind
from warehouse.partition_status import WRITTEN
from warehouse.pipelines import Check, CheckContext, Pipeline

WRITTEN_SQL = ", ".join(f"'{s}'" for s in sorted(WRITTEN))


def _date_column(table: str) -> str:
    """The partitioning date column of a source table (the schema is imported when a check
    query is built, so describing the checks needs no database library)."""
    from warehouse.schema import DATE_COLUMNS

    return DATE_COLUMNS[table]


def _ledger(ctx: CheckContext) -> str:
    actual = " + ".join(
        f"(SELECT COUNT(*) FROM {t} WHERE partition_key = :p)" for t in ctx.pipeline.tables
    )
    return f"""SELECT * FROM (SELECT r.status, r.row_count, {actual} AS actual_rows
               FROM partition_runs r WHERE r.pipeline = :pipeline AND r.partition_key = :p) x
               WHERE status NOT IN ({WRITTEN_SQL})"""


def _present(ctx: CheckContext) -> str:
    pipe = ctx.pipeline
    has_source = f"""EXISTS (SELECT 1 FROM source_manifests WHERE source_table =
        '{pipe.primary_table}' AND day BETWEEN :start AND :end AND row_count > 0)"""
    parts = [
        f"""SELECT '{t}' AS missing FROM (SELECT 1 AS one) o WHERE {has_source}
            AND NOT EXISTS (SELECT 1 FROM {t} WHERE partition_key = :p)"""
        for t in pipe.tables
    ]
    if pipe.daily_table:
        parts.append(f"""SELECT CAST(m.day AS VARCHAR(10)) FROM source_manifests m
            WHERE m.source_table = '{pipe.primary_table}' AND m.day BETWEEN :start AND :end
              AND m.row_count > 0 AND NOT EXISTS (SELECT 1 FROM {pipe.daily_table} f
                  WHERE f.partition_key = :p AND f.day = m.day)""")
    return " UNION ALL ".join(parts)


def _aligned(ctx: CheckContext) -> str:
    parts = [
        f"""SELECT '{t}' AS table_name, COUNT(*) AS misaligned_rows FROM {t}
            WHERE partition_key = :p AND (period_start <> :start OR period_end <> :end
            {"OR day < :start OR day > :end" if t == ctx.pipeline.daily_table else ""})"""
        for t in ctx.pipeline.tables
    ]
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) x WHERE misaligned_rows > 0"


def _complete(ctx: CheckContext) -> str:
    parts = []
    for t in ctx.pipeline.complete_tables:
        col = _date_column(t)
        parts.append(f"""SELECT m.source_table, m.day, m.row_count AS manifest_rows,
                COALESCE(c.n, 0) AS source_rows
            FROM source_manifests m LEFT JOIN (SELECT {col} AS day, COUNT(*) AS n FROM {t}
                WHERE {col} BETWEEN :start AND :end GROUP BY {col}) c ON c.day = m.day
            WHERE m.source_table = '{t}' AND m.day BETWEEN :start AND :end
              AND m.row_count <> COALESCE(c.n, 0)""")
    return " UNION ALL ".join(parts)


def _reconciles(ctx: CheckContext) -> str:
    m = ctx.pipeline.measure
    return f"""SELECT * FROM (SELECT '{m.name}' AS measure, ({m.source_sql}) AS source_count,
               ({m.warehouse_sql}) AS warehouse_count) x WHERE source_count <> warehouse_count"""


def _not_null(ctx: CheckContext) -> str:
    pipe = ctx.pipeline
    col = _date_column(pipe.primary_table)
    parts = [
        f"""SELECT '{c}' AS column_name, COUNT(*) AS null_rows FROM {pipe.primary_table}
            WHERE {col} BETWEEN :start AND :end AND {c} IS NULL"""
        for c in pipe.critical_columns
    ]
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) x WHERE null_rows > 0"


def _mapping(ctx: CheckContext) -> str:
    pipe = ctx.pipeline
    col = _date_column(pipe.primary_table)
    parts = [
        f"""SELECT '{c}' AS column_name, {c} AS value, COUNT(*) AS rows_affected
            FROM {pipe.primary_table} WHERE {col} BETWEEN :start AND :end
              AND {c} IS NOT NULL AND {c} NOT IN ({valid}) GROUP BY {c}"""
        for c, valid in pipe.mappings
    ]
    return " UNION ALL ".join(parts)


COMMON_CHECKS: tuple[Check, ...] = (
    Check("ledger_consistent", FailureKind.ETL_JOB_FAILURE, _ledger,
          description="the last write of the partition finished (no half-written partition)"),
    Check("partition_present", FailureKind.STORAGE_PARTITION, _present,
          description="every fact table (and every day with source data) has its rows"),
    Check("partition_aligned", FailureKind.STORAGE_PARTITION, _aligned,
          description="rows were computed with this partition's boundaries"),
    Check("source_complete", FailureKind.LATE_ARRIVING_DATA, _complete,
          description="source rows per day match the source's own control totals"),
    Check("reconciles_with_source", FailureKind.LATE_ARRIVING_DATA, _reconciles,
          description="warehouse totals equal the source counts"),
    Check("critical_not_null", FailureKind.DATA_QUALITY, _not_null,
          description="no nulls in critical source columns"),
    Check("valid_mapping", FailureKind.DATA_QUALITY, _mapping,
          description="product, region and type codes map to known values"),
)  # fmt: skip


def checks_of(pipeline: Pipeline) -> tuple[Check, ...]:
    """All checks of `pipeline`, common ones first, in kind-deciding order."""
    common = [c for c in COMMON_CHECKS if c.name != "valid_mapping" or pipeline.mappings]
    return (*common, *pipeline.checks)
