"""Filling data day by day: one transaction per day, bounded concurrency, progress.

A fill (a restore from backup, a backfill from logs) is split into days. Each day runs in its
own transaction on its own connection, so a crash loses at most the days in flight and a
second run, which inserts only what is missing, picks up where the first stopped. Days run
`concurrency` at a time on PostgreSQL; SQLite has one writer, so there they run one by one.
`progress` hears about every finished day.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine


@dataclass(frozen=True)
class FillResult:
    """What a fill did: days handled, rows it inserted, lines or rows it read."""

    days: int
    rows_inserted: int
    rows_read: int


@dataclass(frozen=True)
class FillProgress:
    """Where a fill stands after one more day."""

    day: date
    days_done: int
    days_total: int
    rows_inserted: int
    rows_read: int


DayFill = Callable[[Connection, date], tuple[int, int]]
"""Fill one day on a connection inside its transaction; return (rows inserted, rows read)."""
Progress = Callable[[FillProgress], None]


def fill_by_day(
    engine: Engine,
    days: Iterable[date],
    fill_day: DayFill,
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> FillResult:
    """Run `fill_day` for every day, each in one transaction, at most `concurrency` at once."""
    wanted = sorted(set(days))
    workers = 1 if engine.dialect.name == "sqlite" else max(1, min(concurrency, len(wanted)))
    lock = threading.Lock()
    totals = {"done": 0, "inserted": 0, "read": 0}

    def one(day: date) -> None:
        with engine.begin() as conn:
            inserted, read = fill_day(conn, day)
        with lock:
            totals["done"] += 1
            totals["inserted"] += inserted
            totals["read"] += read
            if progress is not None:
                progress(
                    FillProgress(
                        day, totals["done"], len(wanted), totals["inserted"], totals["read"]
                    )
                )

    if workers == 1:
        for day in wanted:
            one(day)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fill") as pool:
            for future in [pool.submit(one, day) for day in wanted]:
                future.result()
    return FillResult(len(wanted), totals["inserted"], totals["read"])
