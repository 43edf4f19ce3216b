"""Build `pipeline.failed` events and deliver them with an answer that can be checked.

Prefect's `emit_event` hands the event to a background websocket worker and returns before
anything is known: a dead server, a 401 or a missing API URL all look like success. Here an
event is POSTed to the REST API (`POST /api/events`, 204 when accepted) and a failure comes
back as `DeliveryError` with one line that says what to do. Long details are cut before
sending, with a note, so the run the event starts stays under Prefect's 512 KB parameter
limit (beyond it the server would accept the event and silently start nothing). No control
character leaves here: a NUL makes Prefect's trigger consumer fail on PostgreSQL and its event
persister drop the whole batch, other people's events included. Names (pipeline, kind,
partition) carry them escaped (`\\x00`), so the door refuses the event on record; the detail
keeps line breaks and tabs and loses the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from prefect.events import Event

from flows.events.api_errors import NO_API_HINT, api_url, explain, explain_response
from flows.events.contract import DETAIL_LIMIT, EVENT_NAME, PARTITION_LABEL, RESOURCE_PREFIX
from foundation.errors import RecoveryError, TransientError
from foundation.visible import is_invisible, visible
from warehouse.failures import PipelineFailure


class DeliveryError(RecoveryError, TransientError):
    """The server did not take the event(s); the message is one line saying why and what to do."""


def cut_detail(detail: str | None, limit: int = DETAIL_LIMIT) -> str:
    """`detail` without control characters (line breaks and tabs kept), up to `limit`
    characters, with a note saying how much was cut and where it is."""
    text = "".join(c for c in detail or "" if not is_invisible(c, free_text=True))
    if len(text) <= limit:
        return text
    note = f" [... {len(text) - limit:,} more characters cut; the full text is in the job's logs]"
    return text[:limit] + note


def failure_event(
    pipeline: str,
    kind: str,
    partition: str,
    detail: str | None = None,
    *,
    flow_run_id: UUID | str | None = None,
    event_id: UUID | None = None,
) -> Event:
    """A `pipeline.failed` event: partition as a resource label, flow run as payload and related.

    Invisible characters in the names are escaped, never sent (see the module docstring)."""
    pipeline, kind, partition = visible(pipeline), visible(kind), visible(partition)
    payload: dict[str, Any] = {
        "kind": kind,
        "partition": partition,
        "pipeline": pipeline,
        "detail": cut_detail(detail),
    }
    related = []
    if flow_run_id is not None:
        payload["flow_run_id"] = str(flow_run_id)
        related.append(
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
                "prefect.resource.role": "flow-run",
            }
        )
    return Event(
        id=event_id or uuid4(),
        event=EVENT_NAME,
        resource={
            "prefect.resource.id": f"{RESOURCE_PREFIX}{pipeline}",
            "prefect.resource.name": pipeline,
            PARTITION_LABEL: partition,
        },
        related=related,
        payload=payload,
    )


def failure_event_parameter(
    failure: PipelineFailure, flow_run_id: UUID | str | None = None
) -> dict[str, Any]:
    """A `PipelineFailure` as a recovery's `event` parameter (a new event id, now), the shape a
    trigger hands it: what a run started in process (rehearsal, tests) passes to the flow."""
    event = failure_event(
        failure.pipeline, str(failure.kind), failure.partition, failure.detail,
        flow_run_id=flow_run_id,
    )  # fmt: skip
    return event_parameter(event)


def event_parameter(event: Event) -> dict[str, Any]:
    """An event (built here or read back from Prefect) as a recovery's `event` parameter."""
    return {
        "id": str(event.id),
        "event": event.event,
        "occurred": event.occurred.isoformat(),
        "resource": dict(event.resource),
        "payload": event.payload,
    }


async def deliver(events: Sequence[Event], *, require_server: bool = True) -> None:
    """POST the events to the Prefect API; DeliveryError unless the server answered 2xx.

    `require_server`: refuse to send to the throwaway in-process server Prefect starts when no
    PREFECT_API_URL is set (nothing would ever see the event there).
    """
    from prefect.client.orchestration import get_client

    url = api_url()
    if require_server and url is None:
        raise DeliveryError(NO_API_HINT)
    body = [event.model_dump(mode="json") for event in events]
    try:
        async with get_client() as client:
            response = await client.request("POST", "/events", json=body)
    except Exception as exc:  # only API errors become a DeliveryError
        if (line := explain(exc, url)) is None:
            raise
        raise DeliveryError(line) from None
    if not response.is_success:
        raise DeliveryError(explain_response(response, url))
