"""Two recoveries never write the same partition: one Prefect concurrency slot per partition.

The ledger's incident key keeps a flood down to one event-driven recovery per partition; a
run started by hand, or a recovery of the same partition through another runbook, is not
de-duplicated. So the steps of a run hold the global concurrency limit
`partition:<pipeline>:<partition>` (one slot, created on first use) while they run. It is
taken per wave of steps and never across an approval gate, so a waiting gate blocks nobody;
a wave whose step works on another pipeline's partition (a cross-pipeline publication) holds
that partition's slot as well.
The slot is a lease the holding process renews while it runs; if that process dies (a worker
or `serve` SIGKILLed), the server's repossessor takes the slot back once the lease runs out
(`LEASE_SECONDS`, checked every 15 s), so the run's retry on another worker can take it. A
failed renewal (the server restarting) does not stop the step: the holder keeps working and
releases the slot when done; a slot a restart left without its lease is reclaimed by the
event door (`lock_reclaim`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager, suppress

PREFIX = "partition"
LEASE_SECONDS = 60  # Prefect's default, 300 s, would hold a dead run's partition five minutes
_known: set[str] = set()


def limit_name(pipeline: str, partition: str) -> str:
    """The concurrency limit's name: `partition:aggregate_profit:2026-10`."""
    return f"{PREFIX}:{pipeline}:{partition}"


async def ensure_limit(name: str) -> None:
    """Create the one-slot limit unless it exists (Prefect no longer creates limits on use)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.settings import PREFECT_API_URL

    known = f"{PREFECT_API_URL.value()} {name}"
    if known in _known:
        return
    async with get_client() as client:
        with suppress(ObjectAlreadyExists):
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=1)
            )
    _known.add(known)


@asynccontextmanager
async def partition_lock(pipeline: str, partition: str | None) -> AsyncIterator[None]:
    """Hold the partition's slot for the block (no partition: nothing to hold)."""
    if not partition:
        yield
        return
    from prefect.concurrency.asyncio import concurrency

    name = limit_name(pipeline, partition)
    await ensure_limit(name)
    async with concurrency(
        name,
        occupy=1,
        strict=True,
        lease_duration=LEASE_SECONDS,
        raise_on_lease_renewal_failure=False,
    ):
        yield


@asynccontextmanager
async def partition_locks(partitions: Iterable[tuple[str, str | None]]) -> AsyncIterator[None]:
    """Hold the slots of several (pipeline, partition) pairs: a run that publishes another
    pipeline's partition holds that one too. Taken in name order, so two runs needing the
    same pair never wait on each other crosswise."""
    async with AsyncExitStack() as stack:
        for pipeline, partition in sorted(set(partitions), key=lambda p: (p[0], p[1] or "")):
            await stack.enter_async_context(partition_lock(pipeline, partition))
        yield
