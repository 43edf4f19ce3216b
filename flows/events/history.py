"""How many failure events an incident counted, beside what Prefect's event history holds.

The event door decides every `pipeline.failed` event once: later events of an open
incident's partition are attached to it (a new kind, a different detail) or dropped as
byte-identical duplicates, each with its outcome row in the ledger. The evidence and
`runbook audit` show those counts next to the total of the key's events in Prefect's
history since the incident opened (`POST /api/events/filter`, its `total`; no event is paged
through), so an event the door has not decided (yet) shows as a difference, not a silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from flows.events.contract import EVENT_NAME, PARTITION_LABEL, RESOURCE_PREFIX

if TYPE_CHECKING:
    from governance.ledger.audit_ledger import Ledger

SLACK = timedelta(seconds=1)  # the first event's `occurred` is the incident's opening time


@dataclass(frozen=True)
class Duplicates:
    """The failure events of one incident's key: in Prefect's history, and attached."""

    total: int | None  # None: Prefect's history could not be read (`why`)
    attached: int
    why: str | None = None
    duplicates: int = 0  # dropped as byte-identical copies of an event already counted

    def summary(self) -> str:
        """One line: how many, and what happened to them."""
        counted = (
            f"1 opened it, {self.attached} attached, {self.duplicates} byte-identical "
            "duplicate(s) dropped"
        )
        if self.total is None:
            return f"{counted}; Prefect's history not read ({self.why})"
        undecided = max(self.total - 1 - self.attached - self.duplicates, 0)
        return (
            f"{self.total} failure event(s) of this pipeline and partition in Prefect's history "
            f"since it opened: {counted}, {undecided} not decided by the event door yet"
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
    counted: tuple[int, int],
    pipeline: str,
    partition: str | None,
    opened_at: datetime,
    *,
    sync: bool = False,
) -> Duplicates:
    """The duplicates of one incident (`counted`: attached, dropped as duplicates); Prefect's
    count is skipped without a configured API."""
    from flows.events.api_errors import api_url, explain

    attached, duplicates = counted
    if not partition:
        return Duplicates(None, attached, "the incident has no partition", duplicates)
    if api_url() is None:
        return Duplicates(None, attached, "no PREFECT_API_URL", duplicates)
    try:
        if sync:
            total = count_failure_events_sync(pipeline, partition, opened_at)
        else:
            import asyncio

            total = asyncio.run(count_failure_events(pipeline, partition, opened_at))
    except Exception as exc:  # the history is extra evidence; never let it block the story
        why = explain(exc, api_url()) or type(exc).__name__
        return Duplicates(None, attached, why, duplicates)
    return Duplicates(total, attached, None, duplicates)


def duplicates_line(ctx: object) -> str | None:
    """The evidence's line about an event-driven incident's duplicates (None: not one)."""
    incident = getattr(ctx, "incident", None) or {}
    services = getattr(ctx, "services", None)
    if not incident.get("event_id") or not incident.get("partition") or services is None:
        return None
    opened_at = datetime.fromisoformat(incident["opened_at"])
    found = incident_duplicates(
        counted_events(services.ledger, incident["id"]),
        incident["pipeline"],
        incident["partition"],
        opened_at,
        sync=True,
    )
    return found.summary()


def counted_events(ledger: Ledger, incident_id: int) -> tuple[int, int]:
    """(attached, dropped as duplicates) on an incident, from the ledger."""
    attached = len(ledger.keys.attached_events(incident_id))
    outcomes = ledger.outcomes.of_incident(incident_id)
    return attached, sum(1 for o in outcomes if o.outcome == "duplicate")
