"""The schema contract of a pipeline's sources: what drifted, what is absorbed, what stops a run.

The contract is the column set of each source table in `warehouse.schema`, plus the column
mappings the pipeline declares (`Pipeline.column_mappings`, reviewed like code). Against the
source as it is now, every difference is one `ColumnChange`:

- `added`: a column the contract does not know. Absorbed: the pipelines name their columns,
  so an extra one changes nothing; it is recorded in the drift report.
- `renamed`: a contract column missing under its name but present under the name a declared
  mapping gives. Applied: readers see the source through a temporary view that selects the
  new name as the contract's (`mapped_sources`); the report says so.
- `dropped` (or a missing table): stops the run; without a declared mapping a rename looks
  like this too, and the report names the candidate column.

Temporary views live in the reading connection only and are dropped when the block ends (a
connection left by an error is invalidated instead), so nothing the source owns is changed
and other connections never see them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, inspect, text

from warehouse.db import Platform
from warehouse.pipelines import Pipeline
from warehouse.pipelines.base import ColumnMapping
from warehouse.schema import SOURCE_TABLES

Change = Literal["added", "dropped", "renamed", "table missing"]


@dataclass(frozen=True)
class ColumnChange:
    """One difference between a source table and the contract."""

    source: str
    table: str
    change: Change
    column: str  # the contract's column (dropped, renamed) or the source's (added)
    source_column: str | None = None  # renamed: the name the source uses now

    @property
    def blocking(self) -> bool:
        """Whether the change stops a run (a drop, a missing table, an unmapped rename)."""
        return self.change in ("dropped", "table missing")

    def describe(self) -> str:
        """One line for logs and evidence."""
        where = f"{self.table}.{self.column}"
        if self.change == "renamed":
            return f"{self.table}: {self.source_column} read as {self.column} (declared mapping)"
        if self.change == "table missing":
            return f"{self.table}: table missing"
        return f"{where} {self.change}"


@dataclass(frozen=True)
class DriftReport:
    """Every difference between a pipeline's sources and its contract."""

    pipeline: str
    changes: tuple[ColumnChange, ...] = ()
    candidates: dict[str, list[str]] = field(default_factory=dict)  # dropped -> added same table

    @property
    def blocking(self) -> list[ColumnChange]:
        """Changes that stop a run."""
        return [c for c in self.changes if c.blocking]

    @property
    def absorbed(self) -> list[ColumnChange]:
        """Added columns: recorded, not fatal."""
        return [c for c in self.changes if c.change == "added"]

    @property
    def applied(self) -> list[ColumnChange]:
        """Renames applied through a declared mapping."""
        return [c for c in self.changes if c.change == "renamed"]

    def summary(self) -> str:
        """The changes on one line, blocking ones first, with rename candidates."""
        parts = []
        for c in [*self.blocking, *self.applied, *self.absorbed]:
            line = c.describe()
            maybe = self.candidates.get(f"{c.table}.{c.column}")
            if c.change == "dropped" and maybe:
                line += f" (renamed to {' or '.join(maybe)}? no mapping is declared)"
            parts.append(line)
        return "; ".join(parts) or "no drift"


def drift_report(platform: Platform, pipe: Pipeline) -> DriftReport:
    """Compare each source table of the pipeline with the contract and its declared mappings."""
    changes: list[ColumnChange] = []
    candidates: dict[str, list[str]] = {}
    for source in pipe.sources:
        insp = inspect(platform.source(source))
        for table in SOURCE_TABLES[source]:
            if not insp.has_table(table.name):
                changes.append(ColumnChange(source, table.name, "table missing", ""))
                continue
            actual = {c["name"] for c in insp.get_columns(table.name)}
            expected = {c.name for c in table.columns}
            renames = _renames(pipe, table.name, actual, expected)
            added = sorted(actual - expected - set(renames.values()))
            for column in sorted(expected - actual):
                if column in renames:
                    changes.append(
                        ColumnChange(source, table.name, "renamed", column, renames[column])
                    )
                else:
                    changes.append(ColumnChange(source, table.name, "dropped", column))
                    if added:
                        candidates[f"{table.name}.{column}"] = added
            changes += [ColumnChange(source, table.name, "added", c) for c in added]
    return DriftReport(pipe.name, tuple(changes), candidates)


def _renames(pipe: Pipeline, table: str, actual: set[str], expected: set[str]) -> dict[str, str]:
    """Contract column -> source column, for declared mappings that apply right now."""
    return {
        m.contract_column: m.source_column
        for m in pipe.column_mappings
        if m.table == table
        and m.contract_column in expected
        and m.contract_column not in actual
        and m.source_column in actual
    }


@contextmanager
def mapped_sources(conn: Connection, pipe: Pipeline) -> Iterator[list[ColumnMapping]]:
    """Within the block, `conn` reads renamed source tables under their contract's names.

    For each table with a declared mapping that applies now, a temporary view of the table's
    name selects the contract's columns (the renamed one under its old name). Yields the
    mappings applied; with none, nothing is created.
    """
    applied = _applicable(conn, pipe)
    tables = sorted({m.table for m in applied})
    for table in tables:
        conn.execute(text(_view_sql(conn, table, [m for m in applied if m.table == table])))
    try:
        yield applied
    except BaseException:
        if tables:  # the views may have been committed with partial work: never pool them
            conn.invalidate()
        raise
    for table in tables:
        conn.execute(text(f"DROP VIEW IF EXISTS {_temp_schema(conn)}.{table}"))


def _applicable(conn: Connection, pipe: Pipeline) -> list[ColumnMapping]:
    if not pipe.column_mappings:
        return []
    insp = inspect(conn)
    out = []
    for m in pipe.column_mappings:
        if not insp.has_table(m.table):
            continue
        actual = {c["name"] for c in insp.get_columns(m.table)}
        if m.contract_column not in actual and m.source_column in actual:
            out.append(m)
    return out


def _view_sql(conn: Connection, table: str, mappings: list[ColumnMapping]) -> str:
    source_of = {m.contract_column: m.source_column for m in mappings}
    columns = [c.name for t in SOURCE_TABLES.values() for x in t if x.name == table for c in x.c]
    select = ", ".join(f"{source_of[c]} AS {c}" if c in source_of else c for c in columns)
    return f"CREATE TEMPORARY VIEW {table} AS SELECT {select} FROM {_home(conn)}.{table}"


def _home(conn: Connection) -> str:
    """The schema the connection's unqualified names resolve to (besides temporary objects)."""
    if conn.dialect.name == "sqlite":
        return "main"
    return '"' + str(conn.execute(text("SELECT current_schema()")).scalar_one()) + '"'


def _temp_schema(conn: Connection) -> str:
    return "temp" if conn.dialect.name == "sqlite" else "pg_temp"
