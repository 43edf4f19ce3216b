"""A process that upgrades a store when its siblings are ready (the concurrency tests spawn it).

Kept apart from the test modules so a spawned process imports little before the race.
"""

from __future__ import annotations

from typing import Any


def upgrade_when_all_are_ready(
    store: str, url: str, schema: str | None, barrier: Any, out: Any
) -> None:
    """Wait at `barrier`, upgrade the `ledger` or `portal` store at `url`, put the result."""
    from foundation.engines import engine_for
    from governance.ledger.migrate import upgrade_ledger
    from portal.database import portal_engine, upgrade_portal

    engine = portal_engine(url) if store == "portal" and not schema else engine_for(url, schema)
    try:
        barrier.wait(60)
        out.put(upgrade_ledger(engine) if store == "ledger" else upgrade_portal(engine))
    except Exception as exc:  # reported to the test
        out.put(f"{type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


def race(store: str, url: str, schema: str | None = None, processes: int = 4) -> list[Any]:
    """What each of `processes` spawned processes upgrading at the same moment returned."""
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    barrier, out = spawn.Barrier(processes), spawn.Queue()
    workers = [
        spawn.Process(target=upgrade_when_all_are_ready, args=(store, url, schema, barrier, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        return [out.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(30)
