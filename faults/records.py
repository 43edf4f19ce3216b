"""Where injected faults are recorded: the `injected_faults` table in the warehouse database.

The table belongs to the fault layer, not to the warehouse schema (no Alembic migration
creates it): `inject` creates it on first use, readers treat a missing table as no faults.
Every process that shares the warehouse sees the same records, so a fault injected from one
terminal acts in the flow runs of another (where the fault layer is installed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    inspect,
    select,
)

from faults.catalog import DATA_VARIANTS
from warehouse.failures import FailureKind

fault_metadata = MetaData()
injected_faults = Table(
    "injected_faults", fault_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("variant", String(32), nullable=False),
    Column("pipeline", String(64), nullable=False),
    Column("partition_key", String(16), nullable=False),
    Column("target", String(64)),  # source system, table or column the fault acts on
    Column("params", Text, nullable=False, default="{}"),  # JSON: what undo needs
    Column("created_at", DateTime, nullable=False),
)  # fmt: skip


@dataclass(frozen=True)
class InjectedFault:
    """One injected fault, as recorded."""

    id: int
    kind: FailureKind
    variant: str
    pipeline: str
    partition: str
    target: str | None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_data_fault(self) -> bool:
        """Whether the fault changed rows (see `clear_faults(data=True)`)."""
        return self.variant in DATA_VARIANTS or self.variant == "crash_mid_run"


_known: set[tuple[str, str | None]] = set()


def _has_table(conn: Connection) -> bool:
    key = (str(conn.engine.url), conn.engine.dialect.default_schema_name)
    if key not in _known and inspect(conn).has_table(injected_faults.name):
        _known.add(key)
    return key in _known


def ensure_table(engine: Engine) -> None:
    """Create the fault table if this warehouse has none yet."""
    fault_metadata.create_all(engine, checkfirst=True)


_FAULTS_OF_PARTITION = (
    select(injected_faults)
    .where(
        injected_faults.c.pipeline == bindparam("f_pipeline"),
        injected_faults.c.partition_key == bindparam("f_partition"),
    )
    .order_by(injected_faults.c.id)
)


def active_faults(
    engine: Engine | Connection, pipeline: str | None = None, partition: str | None = None
) -> list[InjectedFault]:
    """Recorded faults, optionally only those of one pipeline and/or partition.

    Given a connection, it reads on it (inside its transaction, no second connection).
    """
    if pipeline and partition:
        q, params = _FAULTS_OF_PARTITION, {"f_pipeline": pipeline, "f_partition": partition}
    else:
        q, params = select(injected_faults).order_by(injected_faults.c.id), {}
        if pipeline:
            q = q.where(injected_faults.c.pipeline == pipeline)
        if partition:
            q = q.where(injected_faults.c.partition_key == partition)
    if isinstance(engine, Connection):
        rows = engine.execute(q, params).mappings().all() if _has_table(engine) else []
    else:
        with engine.connect() as conn:
            rows = conn.execute(q, params).mappings().all() if _has_table(conn) else []
    return [
        InjectedFault(r["id"], FailureKind(r["kind"]), r["variant"], r["pipeline"],
                      r["partition_key"], r["target"], json.loads(r["params"]))
        for r in rows
    ]  # fmt: skip


def record(
    engine: Engine,
    kind: FailureKind,
    variant: str,
    pipeline: str,
    partition: str,
    target: str | None,
    params: dict[str, Any],
) -> InjectedFault:
    """Write a fault record; returns it with its id."""
    ensure_table(engine)
    with engine.begin() as conn:
        key = conn.execute(
            insert(injected_faults).values(
                kind=str(kind), variant=variant, pipeline=pipeline, partition_key=partition,
                target=target, params=json.dumps(params), created_at=datetime.now(),
            )
        ).inserted_primary_key  # fmt: skip
    fault_id = int(key[0]) if key else 0
    return InjectedFault(fault_id, kind, variant, pipeline, partition, target, params)


def erase(engine: Engine, ids: list[int]) -> None:
    """Delete fault records by id."""
    if not ids:
        return
    with engine.begin() as conn:
        conn.execute(delete(injected_faults).where(injected_faults.c.id.in_(ids)))
