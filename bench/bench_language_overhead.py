"""A 20-step compiled runbook against the same 20 steps written by hand as a Prefect flow.

Both run on the same Prefect server (PostgreSQL-backed, started for the run) from the same
process, alternating, with the same step implementation and the same graph (four chains of
five steps); the hand-written flow is async like the compiled one.
Goal: compiled / hand-written <= 1.10.

    .venv/bin/python bench/bench_language_overhead.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict

from flows.language.catalog import PipelineInfo
from flows.language.validator import validate_text
from flows.runtime.compiler import compile_runbook
from recovery_tasks.registry import step_type
from testing.prefect_server import local_prefect_server, reset_postgres_database

CHAINS, LENGTH, ROUNDS, WORK_SECONDS = 4, 5, 15, 0.05
POSTGRES_ADMIN_URL = os.environ.get(
    "RUNBOOK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class WorkParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partition: str
    seconds: float


class WorkResult(BaseModel):
    partition: str


async def do_work(partition: str, seconds: float) -> dict:
    """The step's work: a short wait standing for a query, the same in both flows."""
    await asyncio.sleep(seconds)
    return {"partition": partition}


@step_type("bench.query", params=WorkParams, result=WorkResult)
async def query(params: WorkParams, ctx: object) -> WorkResult:
    """Run the shared work."""
    return WorkResult(**await do_work(params.partition, params.seconds))


def runbook_text() -> str:
    lines = [
        "runbook: overhead",
        "pipeline: bench_pipeline",
        "params:",
        '  partition: {type: string, from: "{{ event.payload.partition }}"}',
        "steps:",
    ]
    for c in range(CHAINS):
        for i in range(LENGTH):
            lines += [f"  - id: c{c}s{i}", "    uses: bench.query"]
            if i:
                lines.append(f"    needs: [c{c}s{i - 1}]")
                source = f"steps.c{c}s{i - 1}.outputs.partition"
            else:
                source = "params.partition"
            lines.append(f'    with: {{partition: "{{{{ {source} }}}}", seconds: {WORK_SECONDS}}}')
    return "\n".join(lines) + "\n"


@task(cache_policy=NO_CACHE, persist_result=False)
async def hand_step(partition: str, seconds: float) -> dict:
    return await do_work(partition, seconds)


@flow(name="overhead-by-hand", persist_result=False)
async def by_hand(partition: str) -> dict:
    async def chain(c: int) -> str:
        value = partition
        for i in range(LENGTH):
            result = await hand_step.with_options(task_run_name=f"c{c}s{i}")(value, WORK_SECONDS)
            value = result["partition"]
        return value

    return {"chains": await asyncio.gather(*(chain(c) for c in range(CHAINS)))}


async def timed(coro_factory) -> float:
    start = time.perf_counter()
    state = await coro_factory()
    assert state.is_completed(), state
    return time.perf_counter() - start


async def measure(compiled_flow) -> tuple[list[float], list[float]]:
    event = {"payload": {"partition": "2026-10"}}
    compiled_times, hand_times = [], []
    await compiled_flow(event=event, return_state=True)  # warm both paths
    await by_hand("2026-10", return_state=True)
    for _ in range(ROUNDS):
        compiled_times.append(await timed(lambda: compiled_flow(event=event, return_state=True)))
        hand_times.append(await timed(lambda: by_hand("2026-10", return_state=True)))
    return compiled_times, hand_times


def main() -> None:
    catalog = {"bench_pipeline": PipelineInfo("bench_pipeline", False)}
    compiled = compile_runbook(
        validate_text(runbook_text(), "overhead.yaml", catalog), record=False
    )
    database = reset_postgres_database(
        POSTGRES_ADMIN_URL, "runbook_bench_prefect", for_prefect=True
    )
    with local_prefect_server(database):
        compiled_times, hand_times = asyncio.run(measure(compiled.flow))
    ours, theirs = statistics.median(compiled_times), statistics.median(hand_times)
    steps = CHAINS * LENGTH
    print(
        f"{steps} steps ({CHAINS} chains of {LENGTH}, {WORK_SECONDS * 1000:.0f} ms of work "
        f"each), median of {ROUNDS} alternating runs"
    )
    print(f"compiled runbook:        {ours:.3f} s")
    print(f"hand-written flow:       {theirs:.3f} s")
    print(
        f"ratio compiled/by hand:  {ours / theirs:.3f} (goal <= 1.10: "
        f"{'met' if ours / theirs <= 1.10 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
