"""What injecting (and undoing) each data fault does to the sources and the warehouse.

Data faults save the rows they touch into `fault_snapshot_<id>` (in the source database,
explicit columns) before changing them; undo puts those rows back by primary key. Faults
outside the data do nothing here: the fault layer's hooks and portal wrapper read their
records (`faults.warehouse_hooks`, `faults.portal_client`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Engine, bindparam, text

from faults.copies import damage_copy, restore_copy
from faults.records import InjectedFault
from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.pipelines import Pipeline, get_pipeline, resolve
from warehouse.schema import DATE_COLUMNS, SOURCE_TABLES, source_metadata
from warehouse.sql import bound, partition_params
from warehouse.transform import run_transform, write_partition

REBUILT_BY_UNDO = frozenset({"missing_partition", "misaligned", "crash_mid_run"})
"""Variants whose undo re-runs the transform (they damaged the warehouse, not a source)."""


def source_of(table: str) -> str:
    """The source system holding `table`."""
    return next(s for s, tables in SOURCE_TABLES.items() if any(t.name == table for t in tables))


def snapshot_name(fault: InjectedFault) -> str:
    """The table a data fault saved its original rows into."""
    return f"fault_snapshot_{fault.id}"


def _snapshot(engine: Engine, fault: InjectedFault, table: str, where: str, params: dict) -> None:
    cols = ", ".join(c.name for c in source_metadata.tables[table].columns)
    snap = snapshot_name(fault)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {snap}"))
        conn.execute(text(f"CREATE TABLE {snap} AS SELECT {cols} FROM {table} WHERE 1 = 0"))
        conn.execute(bound(f"INSERT INTO {snap} SELECT {cols} FROM {table} WHERE {where}"), params)
        key = source_metadata.tables[table].primary_key.columns.values()[0].name
        conn.execute(text(f"CREATE INDEX {snap}_key ON {snap} ({key})"))


def _window(pipe: Pipeline, part: Partition) -> tuple[str, dict[str, Any]]:
    """SQL predicate and params selecting the partition's rows of the primary source table."""
    col = DATE_COLUMNS[pipe.primary_table]
    return f"{col} BETWEEN :start AND :end", partition_params(part)


def last_days(part: Partition, n: int) -> list[date]:
    """The last `n` days of a partition (all of it if shorter)."""
    return [d for d in part.days if d > part.end - timedelta(n)]


def apply(platform: Platform, fault: InjectedFault, pipe: Pipeline, part: Partition) -> None:
    """Make a data fault real (faults outside the data need nothing here)."""
    table = pipe.primary_table
    engine = platform.source(source_of(table))
    where, params = _window(pipe, part)
    pk, p = pipe.primary_key, fault.params
    v = fault.variant
    if v == "column_renamed":
        _ddl(engine, f"ALTER TABLE {table} RENAME COLUMN {p['column']} TO {p['new_name']}")
    elif v == "column_added":
        _ddl(engine, f"ALTER TABLE {table} ADD COLUMN {p['column']} INTEGER")
    elif v == "column_dropped":
        _snapshot(engine, fault, table, "1 = 1", {})
        _ddl(engine, f"ALTER TABLE {table} DROP COLUMN {p['column']}")
    elif v in ("null_critical", "wrong_mapping", "held_back", "damaged_copy"):
        if v in ("held_back", "damaged_copy"):
            last = DATE_COLUMNS[table]
            where, params = f"{last} = :end AND {pk} % 3 = 0", {"end": part.end}
        else:
            where = f"{where} AND {pk} % 10 = 0"
        _snapshot(engine, fault, table, where, params)
        change = {
            "null_critical": f"UPDATE {table} SET {p.get('column')} = NULL",
            "wrong_mapping": f"UPDATE {table} SET {p.get('column')} = '{p.get('value')}'",
            "held_back": f"DELETE FROM {table}",
            "damaged_copy": f"DELETE FROM {table}",
        }[v]
        with engine.begin() as conn:
            conn.execute(bound(f"{change} WHERE {where}"), params)
        if v == "damaged_copy":
            damage_copy(platform, pipe, part)
    elif v == "missing_partition":
        _drop_partition(platform.warehouse, pipe, part, last_days(part, 2))
    elif v == "misaligned":
        shifted = Partition(
            part.key, part.grain, part.start + timedelta(1), part.end + timedelta(1), part.calendar
        )
        with platform.warehouse.begin() as conn:
            write_partition(conn, pipe, shifted)


def _ddl(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def _drop_partition(engine: Engine, pipe: Pipeline, part: Partition, days: list[date]) -> None:
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
    pipe, part = resolve(fault.pipeline, fault.partition, platform.config.fiscal_calendar)
    table, p, v = pipe.primary_table, fault.params, fault.variant
    engine = platform.source(source_of(table))
    snap = snapshot_name(fault)
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
    elif v in ("null_critical", "wrong_mapping", "held_back", "damaged_copy"):
        cols = ", ".join(c.name for c in source_metadata.tables[table].columns)
        pk = pipe.primary_key
        with engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM {snap})"))
            conn.execute(text(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {snap}"))
    if v == "damaged_copy":
        restore_copy(platform, fault)
    if v in REBUILT_BY_UNDO:
        run_transform(platform, pipe, part)
    drop_snapshot(platform, fault)


def drop_snapshot(platform: Platform, fault: InjectedFault) -> None:
    """Drop the fault's snapshot table, if it made one."""
    engine = platform.source(source_of(get_pipeline(fault.pipeline).primary_table))
    _ddl(engine, f"DROP TABLE IF EXISTS {snapshot_name(fault)}")
