"""Injecting a fault into a pipeline's partition, and undoing recorded faults.

Every fault is a record (kind, variant, pipeline, partition, params; `faults.records`).
Data faults also change the data (`faults.actions`): schema drift alters the source table;
row faults save the originals in a snapshot table first, so `clear_faults(data=True)` can
put everything back. Faults outside the data (an outage, a transform error, a crash, a
storage quota, a publishing failure) are only the record: the installed fault layer acts on
it (`faults.activation`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from faults import actions
from faults.catalog import RUN_FIRST, UnknownFaultError, applies, variant_for
from faults.records import InjectedFault, active_faults, erase, record
from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.failures import FailureKind
from warehouse.partition_state import WRITTEN, read_state
from warehouse.pipelines import Pipeline, resolve
from warehouse.transform import run_transform


def inject(
    engine: Engine | Platform,
    kind: FailureKind | str,
    pipeline: str,
    partition: str,
    variant: str | None = None,
) -> InjectedFault:
    """Inject a fault of `kind` (and `variant`) into `pipeline`'s `partition`."""
    platform = Platform.of(engine)
    k, v = variant_for(kind, variant)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    if not applies(v, pipe.primary_table):
        raise UnknownFaultError(f"{v} needs a second copy of {pipe.primary_table}; it has none")
    if v in RUN_FIRST and not _written(platform, pipe, part):
        run_transform(platform, pipe, part)
    target, params = _plan(pipe, v)
    fault = record(platform.warehouse, k, v, pipe.name, part.key, target, params)
    actions.apply(platform, fault, pipe, part)
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
        "damaged_copy": (table, {}),
        "storage_limit": (None, {"max_rows": 1}),
        "portal_error": ("investor_portal", {"status": 503}),
    }
    return plans.get(variant, (None, {}))


def _written(platform: Platform, pipe: Pipeline, part: Partition) -> bool:
    state = read_state(platform.warehouse, pipe.name, part.key)
    return state is not None and state.status in WRITTEN


def clear_faults(
    engine: Engine | Platform,
    *,
    data: bool = False,
    pipeline: str | None = None,
    fault_id: int | None = None,
) -> list[InjectedFault]:
    """Undo recorded faults (newest first); data faults only with `data=True`. Returns them."""
    platform = Platform.of(engine)
    faults = [
        f
        for f in active_faults(platform.warehouse, pipeline, None)
        if (fault_id is None or f.id == fault_id) and (data or not f.is_data_fault)
    ]
    erase(platform.warehouse, [f.id for f in faults])
    for fault in reversed(faults):  # records go first, so a rebuild is not faulted again
        actions.undo(platform, fault)
    return faults


def forget_faults(platform: Platform) -> list[InjectedFault]:
    """Drop every record and snapshot without undoing anything (the data was regenerated)."""
    faults = active_faults(platform.warehouse)
    erase(platform.warehouse, [f.id for f in faults])
    for fault in faults:
        actions.drop_snapshot(platform, fault)
    return faults


def publishing_fault(engine: Engine, pipeline: str, partition: str) -> InjectedFault | None:
    """The injected report-publishing fault of this pipeline and partition, if any.

    Nothing in the product reads it; the fault layer's portal wrapper
    (`faults.portal_client.FaultingPortalClient`) refuses to publish while it exists.
    """
    for f in active_faults(engine, pipeline, partition):
        if f.kind == FailureKind.REPORT_PUBLISHING:
            return f
    return None
