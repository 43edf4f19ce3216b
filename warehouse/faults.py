"""Fault injection: make a pipeline fail in a chosen, classifiable way, and undo it.

Every fault is a row in `injected_faults` (kind, variant, pipeline, partition, params).
Faults outside the data (an outage, a transform error, a storage quota, a publishing
failure) exist only as that row and the code that honours it; schema drift alters the
source table; data faults change rows after saving the originals in a snapshot table, so
`clear_faults(data=True)` can put everything back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select

from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.failures import FailureKind
from warehouse.fault_catalog import DATA_VARIANTS, RUN_FIRST, variant_for
from warehouse.pipelines import Pipeline
from warehouse.schema import DATE_COLUMNS, source_metadata
from warehouse.sql import partition_params
from warehouse.tables import injected_faults, partition_runs


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


_FAULTS_OF_PARTITION = (
    select(injected_faults)
    .where(
        injected_faults.c.pipeline == bindparam("f_pipeline"),
        injected_faults.c.partition_key == bindparam("f_partition"),
    )
    .order_by(injected_faults.c.id)
)


def active_faults(
    engine: Engine | Connection, pipeline: str | None, partition: str | None
) -> list[InjectedFault]:
    """Recorded faults, optionally only those of one pipeline and partition.

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
        rows = engine.execute(q, params).mappings().all()
    else:
        with engine.connect() as conn:
            rows = conn.execute(q, params).mappings().all()
    return [
        InjectedFault(r["id"], FailureKind(r["kind"]), r["variant"], r["pipeline"],
                      r["partition_key"], r["target"], json.loads(r["params"]))
        for r in rows
    ]  # fmt: skip


def inject(
    engine: Any, kind: FailureKind | str, pipeline: str, partition: str, variant: str | None = None
) -> InjectedFault:
    """Inject a fault of `kind` (and `variant`) into `pipeline`'s `partition`."""
    from warehouse import fault_actions
    from warehouse.transform import resolve, run_transform

    platform = Platform.of(engine)
    k, v = variant_for(kind, variant)
    pipe, part = resolve(pipeline, partition)
    if v in RUN_FIRST and not _complete(platform.warehouse, pipe, part):
        run_transform(platform, pipe, part)
    target, params = _plan(pipe, v)
    with platform.warehouse.begin() as conn:
        fault_id = conn.execute(
            insert(injected_faults).values(
                kind=str(k), variant=v, pipeline=pipe.name, partition_key=part.key,
                target=target, params=json.dumps(params), created_at=datetime.now(),
            )
        ).inserted_primary_key[0]  # fmt: skip
    fault = InjectedFault(fault_id, k, v, pipe.name, part.key, target, params)
    fault_actions.apply(platform, fault, pipe, part)
    return fault


def _plan(pipe: Pipeline, variant: str) -> tuple[str | None, dict[str, Any]]:
    table, col = pipe.primary_table, pipe.critical_columns[0]
    plans: dict[str, tuple[str | None, dict[str, Any]]] = {
        "unreachable": (pipe.sources[0], {}),
        "column_renamed": (table, {"column": col, "new_name": f"{col}_v2"}),
        "column_added": (table, {"column": "ingest_batch_id"}),
        "column_dropped": (table, {"column": col}),
        "null_critical": (table, {"column": col}),
        "wrong_mapping": (table, {"column": pipe.mappings[0][0], "value": "ZZ"}),
        "held_back": (table, {}),
        "storage_limit": (None, {"max_rows": 1}),
        "portal_error": ("investor_portal", {"status": 503}),
    }
    return plans.get(variant, (None, {}))


def _complete(engine: Engine, pipe: Pipeline, part: Partition) -> bool:
    q = select(partition_runs.c.status).where(
        partition_runs.c.pipeline == pipe.name, partition_runs.c.partition_key == part.key
    )
    with engine.connect() as conn:
        return conn.execute(q).scalar() == "complete"


def clear_faults(
    engine: Any, *, data: bool = False, pipeline: str | None = None, fault_id: int | None = None
) -> list[InjectedFault]:
    """Undo recorded faults (newest first); data faults only with `data=True`. Returns them."""
    from warehouse import fault_actions

    platform = Platform.of(engine)
    faults = [
        f
        for f in active_faults(platform.warehouse, pipeline, None)
        if (fault_id is None or f.id == fault_id) and (data or not f.is_data_fault)
    ]
    with platform.warehouse.begin() as conn:
        ids = [f.id for f in faults]
        conn.execute(delete(injected_faults).where(injected_faults.c.id.in_(ids)))
    for fault in reversed(faults):  # records go first, so a rebuild is not faulted again
        fault_actions.undo(platform, fault)
    return faults


def publishing_fault(engine: Any, pipeline: str, partition: str) -> InjectedFault | None:
    """The injected report-publishing fault for this pipeline and partition, if any.

    The portal client honours it: while it exists, publishing this partition fails with
    the recorded HTTP status (`params["status"]`) and kind `report_publishing`.
    """
    wh = Platform.of(engine).warehouse
    for f in active_faults(wh, pipeline, partition):
        if f.kind == FailureKind.REPORT_PUBLISHING:
            return f
    return None


def window(pipe: Pipeline, part: Partition) -> tuple[str, dict[str, Any]]:
    """SQL predicate and params selecting the partition's rows of the primary source table."""
    col = DATE_COLUMNS[pipe.primary_table]
    return f"{col} BETWEEN :start AND :end", partition_params(part)


def last_days(part: Partition, n: int) -> list:
    """The last `n` days of a partition (all of it if shorter)."""
    return [d for d in part.days if d > part.end - timedelta(n)]


def contract_columns(table: str) -> list[str]:
    """The agreed column list of a source table (explicit lists survive column reordering)."""
    return [c.name for c in source_metadata.tables[table].columns]


__all__ = ["InjectedFault", "active_faults", "clear_faults", "inject", "publishing_fault"]


def raise_if_publishing_blocked(engine: Any, pipeline: str, partition: str) -> None:
    """Raise `report_publishing` while a publishing fault is injected for this partition."""
    from warehouse.failures import PipelineFailure

    fault = publishing_fault(engine, pipeline, partition)
    if fault:
        raise PipelineFailure(
            FailureKind.REPORT_PUBLISHING,
            partition,
            f"investor portal answered HTTP {fault.params.get('status', 503)} (injected fault)",
            pipeline=pipeline,
        )
