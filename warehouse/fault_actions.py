"""What injecting (and undoing) each fault variant does to the sources and the warehouse.

Data faults save the rows they touch into `fault_snapshot_<id>` (in the source database,
explicit columns) before changing them; undo puts those rows back by primary key. Faults
that live outside the data do nothing here: the code paths that honour them read the
`injected_faults` row (`preflight`, `transform`, the portal client).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Date, Engine, bindparam, text

from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.pipelines import Pipeline, get_pipeline
from warehouse.schema import DATE_COLUMNS, source_metadata
from warehouse.sql import bound, partition_params

if TYPE_CHECKING:
    from warehouse.faults import InjectedFault


def _source_of(table: str) -> str:
    from warehouse.schema import SOURCE_TABLES

    return next(s for s, tables in SOURCE_TABLES.items() if any(t.name == table for t in tables))


def _snapshot(engine: Engine, fault: InjectedFault, table: str, where: str, params: dict) -> None:
    cols = ", ".join(c.name for c in source_metadata.tables[table].columns)
    snap = f"fault_snapshot_{fault.id}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {snap}"))
        conn.execute(text(f"CREATE TABLE {snap} AS SELECT {cols} FROM {table} WHERE 1 = 0"))
        conn.execute(bound(f"INSERT INTO {snap} SELECT {cols} FROM {table} WHERE {where}"), params)
        key = source_metadata.tables[table].primary_key.columns.values()[0].name
        conn.execute(text(f"CREATE INDEX {snap}_key ON {snap} ({key})"))


def apply(platform: Platform, fault: InjectedFault, pipe: Pipeline, part: Partition) -> None:
    """Make the fault real (see the module docstring for which variants act here)."""
    from warehouse.faults import last_days, window
    from warehouse.transform import _write

    table = pipe.primary_table
    engine = platform.source(_source_of(table))
    where, params = window(pipe, part)
    pk, p = pipe.primary_key, fault.params
    v = fault.variant
    if v == "column_renamed":
        _ddl(engine, f"ALTER TABLE {table} RENAME COLUMN {p['column']} TO {p['new_name']}")
    elif v == "column_added":
        _ddl(engine, f"ALTER TABLE {table} ADD COLUMN {p['column']} INTEGER")
    elif v == "column_dropped":
        _snapshot(engine, fault, table, "1 = 1", {})
        _ddl(engine, f"ALTER TABLE {table} DROP COLUMN {p['column']}")
    elif v in ("null_critical", "wrong_mapping", "held_back"):
        if v == "held_back":
            last = DATE_COLUMNS[table]
            where, params = f"{last} = :end AND {pk} % 3 = 0", {"end": part.end}
        else:
            where = f"{where} AND {pk} % 10 = 0"
        _snapshot(engine, fault, table, where, params)
        change = {
            "null_critical": f"UPDATE {table} SET {p.get('column')} = NULL",
            "wrong_mapping": f"UPDATE {table} SET {p.get('column')} = '{p.get('value')}'",
            "held_back": f"DELETE FROM {table}",
        }[v]
        with engine.begin() as conn:
            conn.execute(bound(f"{change} WHERE {where}"), params)
    elif v == "missing_partition":
        _drop_partition(platform.warehouse, pipe, part, last_days(part, 2))
    elif v == "misaligned":
        shifted = Partition(
            part.key, part.grain, part.start + timedelta(1), part.end + timedelta(1)
        )
        with platform.warehouse.begin() as conn:
            _write(conn, pipe, shifted)


def _ddl(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def _drop_partition(engine: Engine, pipe: Pipeline, part: Partition, days: list) -> None:
    params = partition_params(part)
    with engine.begin() as conn:
        if pipe.daily_table:
            conn.execute(
                text(
                    f"DELETE FROM {pipe.daily_table} WHERE partition_key = :p AND day IN :days"
                ).bindparams(bindparam("days", expanding=True, type_=Date)),
                {**params, "days": days},
            )
        else:
            for t in pipe.tables:
                conn.execute(text(f"DELETE FROM {t} WHERE partition_key = :p"), params)


def undo(platform: Platform, fault: InjectedFault) -> None:
    """Reverse the fault: restore schema, snapshot rows, or rebuild the damaged partition."""
    from warehouse.transform import run_transform

    pipe = get_pipeline(fault.pipeline)
    table, p, v = pipe.primary_table, fault.params, fault.variant
    engine = platform.source(_source_of(table))
    snap = f"fault_snapshot_{fault.id}"
    if v == "column_renamed":
        _ddl(engine, f"ALTER TABLE {table} RENAME COLUMN {p['new_name']} TO {p['column']}")
    elif v == "column_added":
        _ddl(engine, f"ALTER TABLE {table} DROP COLUMN {p['column']}")
    elif v == "column_dropped":
        col = source_metadata.tables[table].c[p["column"]]
        _ddl(
            engine, f"ALTER TABLE {table} ADD COLUMN {col.name} {col.type.compile(engine.dialect)}"
        )
        _ddl(
            engine,
            f"""UPDATE {table} SET {col.name} = (SELECT s.{col.name} FROM {snap} s
                         WHERE s.{pipe.primary_key} = {table}.{pipe.primary_key})""",
        )
    elif v in ("null_critical", "wrong_mapping", "held_back"):
        cols = ", ".join(c.name for c in source_metadata.tables[table].columns)
        pk = pipe.primary_key
        with engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM {snap})"))
            conn.execute(text(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {snap}"))
    if v in ("missing_partition", "misaligned", "crash_mid_run"):
        run_transform(platform, pipe, fault.partition)
    _ddl(engine, f"DROP TABLE IF EXISTS {snap}")
