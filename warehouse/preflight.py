"""Before a run touches anything: can the sources be reached, and do they look as agreed?

Source outage and schema drift are decided here, so they are never mistaken for a
transformation error further down. The contract is the column set in `warehouse.schema`.
Reaching a source goes through the platform's `before_connect` hook (a no-op by default).
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.pipelines import Pipeline, resolve
from warehouse.schema import SOURCE_TABLES


def check_reachable(platform: Platform, pipe: Pipeline, part: Partition) -> None:
    """Raise `source_outage` if a source of the pipeline cannot be reached."""
    for source in pipe.sources:
        try:
            platform.hooks.before_connect(platform, source)
            with platform.source(source).connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise PipelineFailure(
                FailureKind.SOURCE_OUTAGE,
                part.key,
                f"source {source!r} cannot be reached: {getattr(exc, 'orig', exc)}",
                pipeline=pipe.name,
                evidence={"source": source},
            ) from exc


def schema_differences(platform: Platform, source: str) -> list[dict[str, str]]:
    """Columns added to or missing from the source's tables, against the contract."""
    insp = inspect(platform.source(source))
    diffs = []
    for table in SOURCE_TABLES[source]:
        if not insp.has_table(table.name):
            diffs.append({"table": table.name, "change": "table missing", "column": ""})
            continue
        actual = {c["name"] for c in insp.get_columns(table.name)}
        expected = {c.name for c in table.columns}
        diffs += [
            {"table": table.name, "change": "dropped", "column": c}
            for c in sorted(expected - actual)
        ]
        diffs += [
            {"table": table.name, "change": "added", "column": c} for c in sorted(actual - expected)
        ]
    return diffs


def check_contract(platform: Platform, pipe: Pipeline, part: Partition) -> None:
    """Raise `schema_drift` if a source table gained or lost columns without notice."""
    diffs = [d for s in pipe.sources for d in schema_differences(platform, s)]
    if diffs:
        summary = "; ".join(f"{d['table']}: {d['change']} {d['column']}".strip() for d in diffs)
        raise PipelineFailure(
            FailureKind.SCHEMA_DRIFT,
            part.key,
            f"source schema changed: {summary}",
            pipeline=pipe.name,
            evidence={"differences": diffs},
        )


def preflight(
    engine: Engine | Platform, pipeline: str | Pipeline, partition: str | Partition
) -> None:
    """Reachability, then the schema contract."""
    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    check_reachable(platform, pipe, part)
    check_contract(platform, pipe, part)
