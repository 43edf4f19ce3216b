"""What a pipeline is: its area, grain, sources, set-based transform steps, checks, report.

A transform is a list of `Step`s, each replacing one fact table's partition with one
`INSERT ... SELECT`; all steps of a run execute in one transaction. SQL receives the partition
only as bound parameters (`:p`, `:start`, `:end`, `:prev_p`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from warehouse.calendar import Grain, Partition
from warehouse.config import WarehouseConfig
from warehouse.failures import FailureKind

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True)
class Step:
    """Replace `table`'s partition with the rows of `insert_sql` (an INSERT ... SELECT)."""

    table: str
    insert_sql: str


@dataclass(frozen=True)
class CheckContext:
    """What a check's query may use besides bound parameters (thresholds come from `config`)."""

    pipeline: Pipeline
    partition: Partition
    conn: Connection
    config: WarehouseConfig


@dataclass(frozen=True)
class Check:
    """A data check in audit style: its query returns the failing rows (none = pass).

    `kind` is the failure kind a failing check reports; `blocking` checks fail the run,
    the others only warn. `reads_activity_logs`: the query reads the activity logs, which
    the check runner loads for the partition's days first (declared, not a hook, so
    pipeline definitions stay declarations that load without a database library).
    """

    name: str
    kind: FailureKind
    query: Callable[[CheckContext], str]
    blocking: bool = True
    reads_activity_logs: bool = False
    description: str = ""


@dataclass(frozen=True)
class Measure:
    """A count that must agree between the source and the warehouse for a partition."""

    name: str
    source_sql: str
    warehouse_sql: str


@dataclass(frozen=True)
class ColumnMapping:
    """A declared rename in a source: `table.source_column` is read as `contract_column`.

    Part of the pipeline's contract, so reviewed like code: only a declared mapping lets a
    renamed column through (`warehouse.contract`); an undeclared rename stops the run.
    """

    table: str
    source_column: str
    contract_column: str


@dataclass(frozen=True)
class Pipeline:
    """One pipeline of the platform, as the registry describes it."""

    name: str
    area: str
    grain: Grain
    investor_reporting: bool
    description: str
    sources: tuple[str, ...]  # source systems read
    primary_table: str  # the dated source table most faults act on
    primary_key: str
    critical_columns: tuple[str, ...]
    mappings: tuple[tuple[str, str], ...]  # (column, SQL list of valid values)
    complete_tables: tuple[str, ...]  # dated source tables reconciled with manifests
    steps: tuple[Step, ...]
    daily_table: str | None  # fact table with one row group per day, if any
    measure: Measure
    report_sql: str
    report_name: str
    checks: tuple[Check, ...] = field(default_factory=tuple)
    feed_metrics: str | None = None  # SELECT of one row of headline metrics
    column_mappings: tuple[ColumnMapping, ...] = ()  # declared source renames (the contract)

    @property
    def tables(self) -> tuple[str, ...]:
        """Fact tables written by the transform, in order."""
        return tuple(s.table for s in self.steps)

    @property
    def flow_name(self) -> str:
        """The Prefect flow name (`pipeline-aggregate-profit`), never a runbook's name."""
        return "pipeline-" + self.name.replace("_", "-")
