"""A process that claims an incident key when its siblings are ready (the race test spawns it).

Kept apart from the test modules so a spawned process imports little before the race.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def claim_when_all_are_ready(url: str, schema: str | None, n: int, barrier: Any, out: Any) -> None:
    """Wait at `barrier`, open the keyed incident of one partition, put (id, attached)."""
    from foundation.engines import engine_for
    from governance.ledger.audit_ledger import Ledger

    ledger = Ledger(engine_for(url, schema), schema)
    try:
        barrier.wait(60)
        opening = ledger.keys.open_or_attach(
            "aggregate_profit", "2026-01", "etl_job_failure", datetime.now(UTC),
            event_id=f"race-{n}",
        )  # fmt: skip
        out.put((opening.incident.id, opening.attached))
    except Exception as exc:  # reported to the test
        out.put(f"{type(exc).__name__}: {exc}")
    finally:
        ledger.dispose()


def race_claims(url: str, schema: str | None = None, processes: int = 4) -> list[Any]:
    """What each of `processes` spawned processes claiming the same key at once got back."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    barrier, out = spawn.Barrier(processes), spawn.Queue()
    workers = [
        spawn.Process(target=claim_when_all_are_ready, args=(url, schema, n, barrier, out))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        return [out.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(30)
