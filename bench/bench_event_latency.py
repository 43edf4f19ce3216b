"""Event -> recovery running, and -> first step done, through `runbook serve` on a real server.

A Prefect server (PostgreSQL-backed, on a free port) and `runbook serve` in a subprocess; a
runbook of unit_profit_experiments whose first step is the real `logs.scan_job_logs`. Each
of EVENTS `pipeline.failed` events (one partition each, a few seconds apart so runs do not
queue behind each other) is POSTed to the API; the figures come from the server's own
records of each run. Where the time goes, per event:

- trigger: event occurred -> flow run created by the deployment trigger
- poll:    created -> picked up by the runner (its poll interval)
- start:   picked up -> flow function running (a new process: Python, Prefect, the project)
- step:    running -> first step done

Measured twice in the same run: with `runbook serve`'s default (`--poll 1`) and with Prefect's
own default poll (10 s), the baseline. Goal: event -> running p50 <= 3 s, p95 <= 5 s.

    .venv/bin/python bench/bench_event_latency.py          # EVENTS=20 by default
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deployments.local_serve import flow_runs, post_events, serving, wait_armed, wait_for
from deployments.local_server import LocalServer, local_prefect_server, reset_postgres_database
from flows.events.emit import failure_event

EVENTS = int(os.environ.get("EVENTS", "20"))
SPACING = 4.0  # seconds between events, jittered so they land at every phase of the poll
NAME = "unit-profit-experiments"
POSTGRES_ADMIN_URL = os.environ.get(
    "RUNBOOK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
RUNBOOK = """
runbook: unit-profit-experiments
pipeline: unit_profit_experiments
on:
  - event: pipeline.failed
    match: {prefect.resource.id: pipeline.unit_profit_experiments}
params:
  partition: {type: string, from: "{{ event.payload.partition }}"}
steps:
  - id: scan_logs
    uses: logs.scan_job_logs
    allow_failure: true
"""


def partitions(count: int, offset: int) -> list[str]:
    """Distinct day partitions (unit_profit_experiments is daily)."""
    return [(date(2025, 1, 1) + timedelta(days=offset + n)).isoformat() for n in range(count)]


async def timings(flow_run_ids: list) -> dict:
    """Per run: created, picked up (Pending), running, first step done (server times)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    out = {}
    async with get_client() as client:
        for run_id in flow_run_ids:
            run = await client.read_flow_run(run_id)
            states = await client.read_flow_run_states(run_id)
            pending = min((s.timestamp for s in states if s.type.value == "PENDING"), default=None)
            tasks = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
            done = min((t.end_time for t in tasks if t.end_time), default=None)
            out[run_id] = (run, pending, done)
    return out


def measure(server: LocalServer, root: Path, poll: float, offset: int) -> dict[str, list[float]]:
    """Serve with `--poll poll`, send EVENTS events, return each segment's seconds per event."""
    runbooks = root / f"runbooks-{poll:g}"
    runbooks.mkdir()
    (runbooks / f"{NAME}.yaml").write_text(RUNBOOK)
    keys = partitions(EVENTS + 1, offset)
    with serving(server, runbooks, root / f"data-{poll:g}", poll=poll) as served:
        probe = failure_event("unit_profit_experiments", "etl_job_failure", keys[0])
        before = {r.id for r in asyncio.run(flow_runs(NAME))}
        wait_armed(served, server.api_url, NAME, probe.model_dump(mode="json"), timeout=180)
        sent: dict[str, datetime] = {}
        for key in keys[1:]:
            event = failure_event("unit_profit_experiments", "etl_job_failure", key)
            post_events(server.api_url, [event.model_dump(mode="json")])
            sent[key] = event.occurred
            time.sleep(SPACING * random.uniform(0.75, 1.25))

        def done() -> bool:
            runs = [r for r in asyncio.run(flow_runs(NAME)) if r.id not in before]
            mine = [r for r in runs if partition_of(r) in sent]
            return len(mine) >= len(sent) and all(r.state and r.state.is_final() for r in mine)

        wait_for(done, 300, "the runs to finish", served)
        runs = [r for r in asyncio.run(flow_runs(NAME)) if r.id not in before]
    found = asyncio.run(timings([r.id for r in runs]))
    segments: dict[str, list[float]] = {k: [] for k in ("trigger", "poll", "start", "step")}
    segments["running"], segments["first step"] = [], []
    for run, pending, first_done in found.values():
        key = partition_of(run)
        if key not in sent or not (pending and run.start_time and first_done):
            continue
        occurred = sent[key]
        segments["trigger"].append((run.created - occurred).total_seconds())
        segments["poll"].append((pending - run.created).total_seconds())
        segments["start"].append((run.start_time - pending).total_seconds())
        segments["step"].append((first_done - run.start_time).total_seconds())
        segments["running"].append((run.start_time - occurred).total_seconds())
        segments["first step"].append((first_done - occurred).total_seconds())
    return segments


def partition_of(run) -> str:  # type: ignore[no-untyped-def]
    """The partition a run was started for (the trigger passes the resource's label)."""
    return str(run.parameters["event"]["resource"].get("pipeline.partition", ""))


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(label: str, s: dict[str, list[float]]) -> None:
    n = len(s["running"])
    print(f"{label}: {n} events")
    for name in ("running", "first step"):
        p50, p95 = p(s[name], 0.5), p(s[name], 0.95)
        print(f"  event -> {name:<10}  p50 {p50:5.2f} s   p95 {p95:5.2f} s")
    parts = ("trigger", "poll", "start", "step")
    where = "   ".join(f"{k} {statistics.median(s[k]):.2f}" for k in parts)
    print(f"  where it goes (medians, s): {where}")


def main() -> None:
    database = reset_postgres_database(POSTGRES_ADMIN_URL, "runbook_bench_events_prefect")
    root = Path(tempfile.mkdtemp(prefix="bench-events-"))
    with local_prefect_server(database) as server:
        fast = measure(server, root, 1.0, 0)
        slow = measure(server, root, 10.0, 1000)
    report("runbook serve (--poll 1, the default)", fast)
    report("baseline: Prefect's default poll (--poll 10)", slow)
    p50, p95 = p(fast["running"], 0.5), p(fast["running"], 0.95)
    ratio = p50 / p(slow["running"], 0.5)
    print(f"event -> running p50 {p50:.2f} s (goal <= 3), p95 {p95:.2f} s (goal <= 5); "
          f"p50 ratio to baseline {ratio:.2f}")  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work slows `start`)")


if __name__ == "__main__":
    main()
