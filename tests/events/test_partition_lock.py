"""Two recoveries never write the same partition at once (a Prefect global concurrency limit)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flows.language.catalog import PipelineCatalog
from tests.events.conftest import events_runbook, fresh_day, run

pytestmark = [pytest.mark.prefect]


def _hold_times(
    catalog: PipelineCatalog, tmp_path: Path, partitions: list[str], seconds: float = 1.5
) -> list[tuple]:
    """Run one hand-started recovery per partition at once; each one's (start, end) of `hold`."""
    compiled = events_runbook(catalog, tmp_path / "ran.log", seconds=seconds)
    states: list = []

    def go(partition: str) -> None:
        event = {
            "event": "pipeline.failed",
            "payload": {"kind": "data_quality", "partition": partition},
        }
        states.append(run(compiled, event=event))

    threads = [threading.Thread(target=go, args=(p,)) for p in partitions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(states) == len(partitions) and all(s.is_completed() for s in states)
    holds = [s.result()["steps"]["hold"]["outputs"] for s in states]
    return sorted((h["started"], h["ended"]) for h in holds)


def test_two_recoveries_of_one_partition_take_turns(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    partition = fresh_day()
    (_, first_end), (second_start, _) = _hold_times(catalog, tmp_path, [partition] * 2)
    assert second_start >= first_end - 0.05, "the second recovery wrote while the first did"


def test_recoveries_of_different_partitions_run_side_by_side(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> None:
    # (a slot request can meet a busy SQLite test server and retry after ~2 s: hold longer)
    holds = _hold_times(catalog, tmp_path, [fresh_day(), fresh_day()], seconds=5)
    (_, first_end), (second_start, _) = holds
    assert second_start < first_end, "recoveries of different partitions waited for each other"
