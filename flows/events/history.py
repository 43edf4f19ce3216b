"""How many failure events an incident absorbed, from Prefect's own event history.

Duplicates of an open incident take two ways: those inside the trigger's window never start
a run (Prefect's trigger suppressed them, so only Prefect's event store has them), and those
after it start a run that attaches them to the incident in the ledger. The evidence and
`runbook audit` show both: attached events from the ledger, and the total count of
`pipeline.failed` events of the incident's pipeline and partition since it opened, read with
`POST /api/events/filter` (its `total`; no event is paged through).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flows.events.contract import EVENT_NAME, PARTITION_LABEL, RESOURCE_PREFIX

SLACK = timedelta(seconds=1)  # the first event's `occurred` is the incident's opening time


@dataclass(frozen=True)
class Duplicates:
    """The failure events of one incident's key: in Prefect's history, and attached."""

    total: int | None  # None: Prefect's history could not be read (`why`)
    attached: int
    why: str | None = None

    def summary(self) -> str:
        """One line: how many, and what happened to them."""
        attached = f"{self.attached} attached by later runs"
        if self.total is None:
            return f"{attached}; events suppressed by the trigger not counted ({self.why})"
        absorbed = max(self.total - 1 - self.attached, 0)
        return (
            f"{self.total} failure event(s) of this pipeline and partition in Prefect's history "
            f"since it opened: 1 opened it, {attached}, {absorbed} absorbed by the trigger's "
            "window (no run started)"
        )


def failure_filter(
    pipeline: str, partition: str, since: datetime, until: datetime | None
) -> object:
    """Prefect's event filter for the `pipeline.failed` events of one (pipeline, partition)."""
    from prefect.events.filters import (
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventResourceFilter,
    )
    from prefect.events.schemas.events import ResourceSpecification

    return EventFilter(
        occurred=EventOccurredFilter(since=since - SLACK, until=until or datetime.now(UTC)),
        event=EventNameFilter(name=[EVENT_NAME]),
        resource=EventResourceFilter(
            id=[f"{RESOURCE_PREFIX}{pipeline}"],
            labels=ResourceSpecification({PARTITION_LABEL: partition}),
        ),
    )


async def count_failure_events(
    pipeline: str, partition: str, since: datetime, until: datetime | None = None
) -> int:
    """How many `pipeline.failed` events of the key Prefect holds between `since` and `until`."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        page = await client.read_events(
            filter=failure_filter(pipeline, partition, since, until),  # type: ignore[arg-type]
            limit=1,
        )
    return page.total


def count_failure_events_sync(
    pipeline: str, partition: str, since: datetime, until: datetime | None = None
) -> int:
    """`count_failure_events` for synchronous callers (the evidence is rendered synchronously)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        page = client.read_events(
            filter=failure_filter(pipeline, partition, since, until),  # type: ignore[arg-type]
            limit=1,
        )
    return page.total


def incident_duplicates(
    attached: int, pipeline: str, partition: str | None, opened_at: datetime, *, sync: bool = False
) -> Duplicates:
    """The duplicates of one incident; Prefect's count is skipped without a configured API."""
    from flows.events.api_errors import api_url, explain

    if not partition:
        return Duplicates(None, attached, "the incident has no partition")
    if api_url() is None:
        return Duplicates(None, attached, "no PREFECT_API_URL")
    try:
        if sync:
            total = count_failure_events_sync(pipeline, partition, opened_at)
        else:
            import asyncio

            total = asyncio.run(count_failure_events(pipeline, partition, opened_at))
    except Exception as exc:  # the history is extra evidence; never let it block the story
        return Duplicates(None, attached, explain(exc, api_url()) or type(exc).__name__)
    return Duplicates(total, attached)


def duplicates_line(ctx: object) -> str | None:
    """The evidence's line about an event-driven incident's duplicates (None: not one)."""
    incident = getattr(ctx, "incident", None) or {}
    services = getattr(ctx, "services", None)
    if not incident.get("event_id") or not incident.get("partition") or services is None:
        return None
    attached = len(services.ledger.attached_events(incident["id"]))
    opened_at = datetime.fromisoformat(incident["opened_at"])
    found = incident_duplicates(
        attached, incident["pipeline"], incident["partition"], opened_at, sync=True
    )
    return found.summary()
