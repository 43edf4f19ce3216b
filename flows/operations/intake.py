"""The intake: a record of every `pipeline.failed` event no runbook takes.

A runbook's trigger matches only its own pipeline's resource, so an event of a pipeline no
runbook recovers (a typo, a new pipeline, a hostile sender) would start nothing and leave no
trace. Prefect's `match` can negate one pattern, not a list, so the intake deployment's
trigger takes every `pipeline.failed` event (once per resource per window, without its
payload) and this flow sorts them: an event a runbook takes ends here at once with nothing
recorded; any other is recorded as an `invalid_event` incident, the team's on-call engineer
is notified and the run fails with the reason. (Oversized payloads reach the runbook's own
door, which refuses them: see `contract.unpack_payload`.)
"""

from __future__ import annotations

import fnmatch
import functools
from typing import Any

import anyio
from prefect import flow, get_run_logger
from prefect.states import State

from flows.events.contract import EVENT_NAME, NAME_MAX, RESOURCE_PREFIX, InvalidEventError
from flows.events.door import record_refusal, refused_state
from flows.runtime.run_services import open_services

INTAKE_NAME = "pipeline-failed-intake"

INTAKE_EVENT_PARAMETER = {
    "id": "{{ event.id | string }}",
    "event": "{{ event.event }}",
    "occurred": "{{ event.occurred | string }}",
    "resource": {"prefect.resource.id": "{{ event.resource.id | truncate(200, true, '', 0) }}"},
}
"""What the intake's trigger passes: never the payload, so the run is always created."""


def refusal_reason(event: dict[str, Any], claimed: list[str]) -> str | None:
    """Why no runbook takes this event, or None when one does."""
    resource = str((event.get("resource") or {}).get("prefect.resource.id", ""))[:NAME_MAX]
    if any(fnmatch.fnmatchcase(resource, pattern) for pattern in claimed):
        return None
    taken = ", ".join(sorted(claimed)) or "none"
    return f"no runbook recovers {resource!r} (unknown pipeline); runbooks take: {taken}"


@flow(name=INTAKE_NAME, persist_result=False, log_prints=True)
async def pipeline_failed_intake(event: dict[str, Any], claimed: list[str]) -> str | State:
    """Record a `pipeline.failed` event no runbook takes; refuse it with the reason."""
    reason = refusal_reason(event, claimed)
    if reason is None:
        return "taken by a runbook's trigger; nothing to record"
    refused = InvalidEventError([reason])
    get_run_logger().error("refused: %s", refused)
    resource = str((event.get("resource") or {}).get("prefect.resource.id", ""))
    pipeline = resource.removeprefix(RESOURCE_PREFIX)[:NAME_MAX] or "(none)"
    services = await anyio.to_thread.run_sync(open_services)
    try:
        from prefect.context import FlowRunContext

        context = FlowRunContext.get()
        flow_run_id = str(context.flow_run.id) if context and context.flow_run else None
        record = functools.partial(
            record_refusal, services, INTAKE_NAME, pipeline, event, flow_run_id, refused
        )
        await anyio.to_thread.run_sync(record)
    finally:
        await anyio.to_thread.run_sync(services.close)
    return refused_state(refused)


def claimed_resources(triggers: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The resource-id patterns the runbooks' `pipeline.failed` triggers match ("*": all)."""
    patterns: set[str] = set()
    for event, match in triggers:
        if event != EVENT_NAME:
            continue
        wanted = match.get("prefect.resource.id", "*")
        patterns.update([wanted] if isinstance(wanted, str) else wanted)
    return sorted(patterns)
