"""The event door: one long-lived consumer of Prefect's event stream decides every failure.

A deployment trigger with a de-duplication window swallows genuine failures (any event of the
partition, even a refused one, fills the window; a failure after the incident ended is lost),
and a trigger without one starts a flow-run process per event (1,000 duplicates, 1,000
processes). The door instead reads every `pipeline.failed` event from the server's stream in
the serving process and accounts for it in the ledger (`accounting.account`); only an event
that opens an incident costs a flow run, created on the runbook's deployment.

The stream alone is not enough: the server keeps at most 256 events waiting for a subscriber
and drops the rest without a word (a flood of 1,000 arrives faster than it is decided). So
the door also sweeps Prefect's event history: on start, from the last event it accounted for
(events sent while it was down), and every `SWEEP_SECONDS` after, over the recent past.
Accounting is keyed by event id, so an event seen by both is decided once; decisions are
made one at a time.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from flows.events.accounting import Decision, account, opened
from flows.events.contract import EVENT_NAME
from flows.events.lock_reclaim import reclaim_forever
from flows.language.validator import ValidatedRunbook
from flows.operations.run_watch import watch_forever
from flows.operations.standby import hold_then_run
from governance.ledger.outcomes import EventOutcome
from governance.ledger.role_lock import role_lock
from recovery_tasks.services import RunServices

logger = logging.getLogger("runbook.event_door")
CATCH_UP = timedelta(hours=1)  # how far back a first start (empty ledger) reads the history
OVERLAP = timedelta(minutes=2)  # re-read before the last accounted event (arrival vs occurred)
SWEEP_SECONDS = 5
SWEEP_BACK = timedelta(seconds=60)  # each sweep re-reads this much before the last one's end
BUFFER = 10_000  # stream events waiting for a decision; beyond, the sweep finds them
ATTEMPTS = 4
PAGE = 50  # the most events Prefect's history returns a page
RESTART_SECONDS = 5
ROLE = "event-door"


class EventDoor:
    """Decides `pipeline.failed` events for the given runbooks, one at a time, in order."""

    def __init__(self, runbooks: Sequence[ValidatedRunbook], services: RunServices) -> None:
        self.runbooks = list(runbooks)
        self.services = services
        self._deployments: dict[str, Any] = {}
        self._one_at_a_time = anyio.Lock()
        self.decided = 0

    async def run(self) -> None:
        """Follow the stream and sweep the history until cancelled."""
        from prefect.events.clients import get_events_subscriber

        send, receive = anyio.create_memory_object_stream[dict[str, Any]](BUFFER)
        async with (
            get_events_subscriber(
                filter=_failure_filter(None), reconnection_attempts=1_000_000
            ) as stream,
            anyio.create_task_group() as tasks,
        ):
            tasks.start_soon(self._decide_from, receive)
            last = await anyio.to_thread.run_sync(self.services.ledger.outcomes.latest_time)
            tasks.start_soon(self._sweep_forever, (last - OVERLAP) if last else None)
            async for event in stream:
                with contextlib.suppress(anyio.WouldBlock):  # full: the sweep decides it
                    send.send_nowait(event.model_dump(mode="json"))

    async def _decide_from(self, receive: Any) -> None:
        async for event in receive:
            await self.decide_patiently(event)

    async def _sweep_forever(self, since: datetime | None) -> None:
        since = since or datetime.now(UTC) - CATCH_UP
        while True:
            started = datetime.now(UTC)
            try:
                await self.catch_up(since)
                since = started - SWEEP_BACK
            except Exception:  # the server may be restarting; sweep the same span again
                logger.exception("sweeping the event history failed")
            await anyio.sleep(SWEEP_SECONDS)

    async def decide_patiently(self, event: dict[str, Any]) -> EventOutcome | None:
        """`decide`, retried while the ledger or the API is briefly away; None if it never
        came back (the next start's catch-up decides the event)."""
        for attempt in range(ATTEMPTS):
            try:
                return await self.decide(event)
            except Exception:  # the door must outlive one bad moment
                logger.exception("event %s: attempt %d failed", event.get("id"), attempt + 1)
                await anyio.sleep(2**attempt)
        return None

    async def catch_up(self, since: datetime) -> int:
        """Decide every failure event in Prefect's history since `since` not decided yet."""
        from prefect.client.orchestration import get_client

        seen = 0
        async with get_client() as client:
            page = await client.read_events(filter=_failure_filter(since), limit=PAGE)
            while True:
                for event in page.events:
                    await self.decide_patiently(event.model_dump(mode="json"))
                    seen += 1
                if not page.next_page:
                    break
                page = await client.read_events_page(page.next_page)
        logger.debug("event door swept %d failure event(s) since %s", seen, since)
        return seen

    async def decide(self, event: dict[str, Any]) -> EventOutcome:
        """Account for one event; create the recovery run when it opens an incident."""
        decide = functools.partial(account, event, self.runbooks, self.services)
        async with self._one_at_a_time:
            decision = await anyio.to_thread.run_sync(decide)
            outcome = decision.outcome if decision.start is None else await self._open(decision)
        assert outcome is not None
        self.decided += 1
        logger.info(
            "event %s: %s (incident %s)", outcome.event_id, outcome.outcome, outcome.incident_id
        )
        return outcome

    async def _open(self, decision: Decision) -> EventOutcome:
        """A run of the runbook's deployment, then the incident claiming the partition's key
        (a run whose claim lost a race is cancelled: its event is attached instead)."""
        from prefect.client.orchestration import get_client
        from prefect.states import Cancelled

        assert decision.start is not None and decision.checked is not None
        runbook, checked = decision.start, decision.checked
        async with get_client() as client:
            if runbook.name not in self._deployments:
                name = f"{runbook.name}/{runbook.name}"
                self._deployments[runbook.name] = (await client.read_deployment_by_name(name)).id
            flow_run = await client.create_flow_run_from_deployment(
                self._deployments[runbook.name], parameters={"event": decision.event}
            )
        claim = functools.partial(
            self.services.ledger.keys.open_or_attach,
            runbook.spec.pipeline,
            checked.payload.partition,
            str(checked.payload.kind),
            checked.occurred or datetime.now(UTC),
            event_id=str(checked.id),
            runbook=runbook.name,
            flow_run_id=str(flow_run.id),
        )
        opening = await anyio.to_thread.run_sync(claim)
        if opening.attached:
            async with get_client() as client:
                await client.set_flow_run_state(flow_run.id, Cancelled(), force=True)
        record = functools.partial(
            opened, decision, opening.incident, opening.attached, self.services
        )
        return await anyio.to_thread.run_sync(record)


def _failure_filter(since: datetime | None) -> Any:
    from prefect.events.filters import (
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventOrder,
    )

    occurred = (
        EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(days=1))
        if since
        else EventOccurredFilter()
    )
    return EventFilter(
        event=EventNameFilter(name=[EVENT_NAME]), occurred=occurred, order=EventOrder.ASC
    )


async def serve_door(runbooks: Sequence[ValidatedRunbook]) -> None:
    """Run the event door with services of its own until cancelled (`runbook serve`,
    `runbook door`); beside it, reclaim partition locks left without a holder and watch for
    runs nobody runs (`run_watch`). Exactly one process does this among those sharing the
    ledger (`standby`): a second `serve` stands by and takes over when the first is gone."""
    from flows.runtime.run_services import open_command_services

    services = await anyio.to_thread.run_sync(open_command_services)
    door = EventDoor(runbooks, services)

    async def door_and_watches() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(reclaim_forever)
            tasks.start_soon(watch_forever)
            while True:
                try:
                    await door.run()
                except Exception:  # the server went away: catch up again when it is back
                    logger.exception("event door stopped; restarting in %d s", RESTART_SECONDS)
                await anyio.sleep(RESTART_SECONDS)

    try:
        lock = role_lock(services.ledger.engine, ROLE)
        await hold_then_run(lock, "event door", door_and_watches)
    finally:
        await anyio.to_thread.run_sync(services.close)
