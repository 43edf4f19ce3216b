"""The invariant sweep: every partition that is not `complete` has an open incident or a live run.

Events can be lost (a process killed before it reported, a server that was down, an event for
the wrong partition), so the warehouse's own record is checked on a schedule, served beside
the runbooks: each partition `quarantined`, `unchecked` or `running` (half-written) in
`partition_runs` must be held by an open incident of its (pipeline, partition), or be the
subject of a live pipeline run. A `running` partition whose write started longer ago than
`RUNNING_SHARE` of its pipeline's SLA counts even with a live run: that run is stuck or its
process is gone. For each partition nobody watches, the sweep opens an incident (claiming the
key, so later failure events of it attach there), marks it `needs_attention` with the reason,
and notifies the on-call engineers and the owners, who continue with `runbook retry N`.

Each pass first reconciles the ledger with the portal (`flows.operations.publication_reconcile`): a
publication whose receipt the ledger missed while it was unavailable is recorded, and its
incident resolved, as soon as the ledger is back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from prefect import flow, get_run_logger

from flows.operations.publication_reconcile import reconcile
from flows.runtime.run_services import open_command_services
from governance.ledger.records import IncidentState
from governance.ledger.views import open_incidents
from governance.oncall.responders import notify_targets
from recovery_tasks.services import RunServices
from warehouse.failures import FailureKind
from warehouse.partition_state import PartitionState, PartitionStatus, not_complete
from warehouse.pipelines import registry

SWEEP_NAME = "invariant-sweep"
INTERVAL_SECONDS = 300  # the application serves it on this interval
RUNNING_SHARE = 0.25  # a write older than this share of the SLA is stuck, live run or not
RECONCILE_AFTER = timedelta(minutes=2)  # a publish step waits 30 s for its receipt's record
LIVE_STATES = ["SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"]
Key = tuple[str, str]


@dataclass(frozen=True)
class Unwatched:
    """A partition that is not complete, with nobody working on it, and why that is so."""

    state: PartitionState
    why: str

    @property
    def kind(self) -> str:
        """The failure kind its incident gets: what the partition's state tells."""
        if self.state.status == PartitionStatus.RUNNING:
            return FailureKind.ETL_JOB_FAILURE
        kinds = [c.get("kind") for c in self.state.failing_checks if c.get("kind")]
        return str(kinds[0]) if kinds else FailureKind.UNCLASSIFIED


def unwatched(
    states: Iterable[PartitionState],
    open_keys: set[Key],
    live: set[Key],
    sla_of: Callable[[str], timedelta],
    now: datetime,
) -> list[Unwatched]:
    """The partitions that break the invariant (`now` naive, like `partition_runs` times)."""
    found = []
    for state in states:
        key = (state.pipeline, state.partition)
        if key in open_keys:
            continue
        stuck = (
            state.status == PartitionStatus.RUNNING
            and state.started_at is not None
            and now - state.started_at > sla_of(state.pipeline) * RUNNING_SHARE
        )
        if key in live and not stuck:
            continue
        why = state.why_not_readable() or state.status
        if stuck:
            why += f" (its write is older than {RUNNING_SHARE:.0%} of the SLA)"
        found.append(Unwatched(state, f"{why}; no open incident and no live run held it"))
    return found


def open_for(services: RunServices, item: Unwatched, now: datetime) -> int:
    """Open the partition's incident (or attach to one opened meanwhile) and tell people."""
    state, ledger = item.state, services.ledger
    opening = ledger.keys.open_or_attach(
        state.pipeline, state.partition, item.kind, now, runbook=runbook_of(state.pipeline)
    )
    incident = opening.incident
    if opening.attached:
        return incident.id
    detail = {"found_by": SWEEP_NAME, "partition_status": state.status, "why": item.why}
    ledger.incidents.record_state(incident.id, IncidentState.NEEDS_ATTENTION, at=now, detail=detail)
    targets = notify_targets(services.governance, state.pipeline, now)
    text = (
        f"{state.pipeline} {state.partition} is not complete and nobody was working on it: "
        f"{item.why}. Incident {incident.id} is open for it: fix the cause, then "
        f"`runbook retry {incident.id}`."
    )
    services.notifier().notify_all(
        [*targets.first, *targets.escalation], "invariant_breach", text, incident_id=incident.id
    )
    return incident.id


def runbook_of(pipeline: str) -> str:
    """The runbook that recovers `pipeline` (each runbook is named after its pipeline)."""
    return pipeline.replace("_", "-")


def sweep_once(services: RunServices, live: set[Key], now: datetime) -> list[int]:
    """Record the portal's receipts of publications the ledger missed, then open an incident
    for every partition that breaks the invariant; the ids of those opened."""
    reconcile(services, older_than=RECONCILE_AFTER)
    board = open_incidents(services.ledger, services.governance, now)
    open_keys = {(i.incident.pipeline, i.incident.partition or "") for i in board}
    states = not_complete(services.platform().warehouse)
    config = services.governance
    found = unwatched(
        states,
        open_keys,
        live,
        lambda p: config.pipeline(p).sla,
        now.astimezone().replace(tzinfo=None),
    )
    return [open_for(services, item, now) for item in found]


async def live_pipeline_runs() -> set[Key]:
    """(pipeline, partition) of every pipeline flow run scheduled, pending or running."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    flows = {p.flow_name: p.name for p in registry.values()}
    live = FlowRunFilterStateType(any_=[StateType(s) for s in LIVE_STATES])
    keys: set[Key] = set()
    async with get_client() as client:
        for flow_name, pipeline in flows.items():
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=live)),
            )
            keys.update((pipeline, str((r.parameters or {}).get("partition"))) for r in runs)
    return keys


def _sweep(live: set[Key]) -> list[int]:
    with open_command_services() as services:
        return sweep_once(services, live, datetime.now(UTC))


@flow(name=SWEEP_NAME, persist_result=False)
async def invariant_sweep() -> list[int]:
    """One pass: the incidents opened for partitions nobody was working on."""
    opened = await anyio.to_thread.run_sync(_sweep, await live_pipeline_runs())
    get_run_logger().info("invariant sweep: %d incident(s) opened: %s", len(opened), opened)
    return opened
