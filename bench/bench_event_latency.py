"""Event -> recovery running, and -> first step done, through `runbook serve` on a real server.

A Prefect server (PostgreSQL-backed, on a free port) and `runbook serve` in a subprocess; a
runbook of unit_profit_experiments whose first step is the real `logs.scan_job_logs`. Each
of EVENTS `pipeline.failed` events (one partition each, a few seconds apart so runs do not
queue behind each other) is POSTed to the API; the figures come from the server's own
records of each run. Where the time goes, per event:

- door:    event occurred -> flow run created by the event door of `runbook serve`
- poll:    created -> picked up by the runner (its poll interval)
- start:   picked up -> flow function running (a new process: Python, Prefect, the project)
- step:    running -> first step done

Measured three times in the same run: `runbook serve`'s defaults (`--poll 0.5`, each run a fork
of serve's warm process); `--poll 0.5 --spawn` (each run a new `python -m prefect.engine`
process, as a work pool starts it); and Prefect's own defaults (10 s poll, a new process), the
baseline. Goal (issue 20): event -> running p50 <= 1.5 s.

Beside it, the door's own cost per event: the processes serve's tree started per event and
the CPU seconds the serve process spent per event, for the genuine events (each opens an
incident and starts one recovery) and for DUPLICATES byte-identical copies of one failure
(decided in the serve process, no recovery): where a trigger-started door would cost a
flow-run process per event.

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
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.events.emit import failure_event
from testing.prefect_server import LocalServer, local_prefect_server, reset_postgres_database
from testing.served import flow_runs, post_events, serving, wait_armed, wait_for
from tests.e2e.serving import descendants

EVENTS = int(os.environ.get("EVENTS", "20"))
DUPLICATES = int(os.environ.get("DUPLICATES", "500"))
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
    """Distinct past day partitions (unit_profit_experiments is daily)."""
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


class Cost:
    """Processes started under serve and CPU seconds of the serve process, while sampling."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: set[int] = set(descendants(root))
        self.cpu = cpu_seconds(root)
        self.started = 0

    def sample(self) -> None:
        now = set(descendants(self.root))
        self.started += len(now - self.seen)
        self.seen |= now

    def per_event(self, events: int) -> tuple[float, float]:
        """(processes, serve CPU seconds) per event since this cost began."""
        self.sample()
        return self.started / events, (cpu_seconds(self.root) - self.cpu) / events


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    server: LocalServer, root: Path, poll: float, offset: int, spawn: bool = False
) -> tuple[dict[str, list[float]], dict[str, tuple[float, float]]]:
    """Serve with `--poll poll` (and `--spawn`), send EVENTS events, return each segment's
    seconds per event and the door's cost per event (genuine events, then duplicates)."""
    runbooks = root / f"runbooks-{poll:g}{'-spawn' if spawn else ''}"
    runbooks.mkdir()
    (runbooks / f"{NAME}.yaml").write_text(RUNBOOK)
    keys = partitions(EVENTS + 1, offset)
    # one ledger: a later serve's door must not decide an earlier one's events again
    with serving(server, runbooks, root / "data", poll=poll, spawn=spawn) as served:
        probe = failure_event("unit_profit_experiments", "etl_job_failure", keys[0])
        before = {r.id for r in asyncio.run(flow_runs(NAME))}
        wait_armed(served, server.api_url, NAME, probe.model_dump(mode="json"), timeout=180)
        sent: dict[str, datetime] = {}
        wait_for(lambda: all_final(before), 600, "the probe's run", served)
        cost = Cost(served.process.pid)
        for key in keys[1:]:
            event = failure_event("unit_profit_experiments", "etl_job_failure", key)
            post_events(server.api_url, [event.model_dump(mode="json")])
            sent[key] = event.occurred
            pause = time.monotonic() + SPACING * random.uniform(0.75, 1.25)
            while time.monotonic() < pause:
                cost.sample()
                time.sleep(0.1)

        def done() -> bool:
            runs = [r for r in asyncio.run(flow_runs(NAME)) if r.id not in before]
            mine = [r for r in runs if partition_of(r) in sent]
            return len(mine) >= len(sent) and all(r.state and r.state.is_final() for r in mine)

        wait_for(done, 300 + 30 * EVENTS, "the runs to finish", served)
        costs = {"genuine": cost.per_event(len(sent))}
        costs["duplicate"] = flood_cost(server, served, keys[0])
        runs = [r for r in asyncio.run(flow_runs(NAME)) if r.id not in before]
    found = asyncio.run(timings([r.id for r in runs]))
    segments: dict[str, list[float]] = {k: [] for k in ("door", "poll", "start", "step")}
    segments["running"], segments["first step"] = [], []
    for run, pending, first_done in found.values():
        key = partition_of(run)
        if key not in sent or not (pending and run.start_time and first_done):
            continue
        occurred = sent[key]
        segments["door"].append((run.created - occurred).total_seconds())
        segments["poll"].append((pending - run.created).total_seconds())
        segments["start"].append((run.start_time - pending).total_seconds())
        segments["step"].append((first_done - run.start_time).total_seconds())
        segments["running"].append((run.start_time - occurred).total_seconds())
        segments["first step"].append((first_done - occurred).total_seconds())
    return segments, costs


def all_final(before: set) -> bool:
    runs = [r for r in asyncio.run(flow_runs(NAME)) if r.id not in before]
    return all(r.state and r.state.is_final() for r in runs)


def flood_cost(server: LocalServer, served, partition: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The door's cost per event of DUPLICATES copies of one failure whose incident is open."""
    from governance.ledger.audit_ledger import Ledger

    ledger = Ledger.from_url(f"sqlite:///{served.log.parent / 'warehouse.db'}")
    incident = ledger.keys.open_or_attach(
        "unit_profit_experiments", partition, "etl_job_failure", datetime.now().astimezone()
    )  # an open incident for them to land on, as if its recovery waited at a gate
    first = failure_event("unit_profit_experiments", "etl_job_failure", partition, "flood")
    copies = [{**first.model_dump(mode="json"), "id": str(uuid.uuid4())} for _ in range(DUPLICATES)]
    cost = Cost(served.process.pid)
    post_events(server.api_url, copies)
    deadline = time.monotonic() + 300
    while (
        ledger.outcomes.of_event(copies[-1]["id"]) is None
        or len(ledger.outcomes.of_incident(incident.incident.id)) < DUPLICATES
    ):
        assert time.monotonic() < deadline, "the door did not decide the flood"
        cost.sample()
        time.sleep(0.2)
    ledger.dispose()
    return cost.per_event(DUPLICATES)


def partition_of(run) -> str:  # type: ignore[no-untyped-def]
    """The partition a run was started for (the trigger passes the resource's label)."""
    return str(run.parameters["event"]["resource"].get("pipeline.partition", ""))


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(label: str, measured: tuple) -> None:
    s, costs = measured
    n = len(s["running"])
    print(f"{label}: {n} events", flush=True)
    for kind, (processes, cpu) in costs.items():
        print(
            f"  door cost per {kind:<9} event: {processes:.2f} processes, {cpu:.4f} CPU s (serve)"
        )
    for name in ("running", "first step"):
        p50, p95 = p(s[name], 0.5), p(s[name], 0.95)
        print(f"  event -> {name:<10}  p50 {p50:5.2f} s   p95 {p95:5.2f} s")
    parts = ("door", "poll", "start", "step")
    where = "   ".join(f"{k} {statistics.median(s[k]):.2f}" for k in parts)
    print(f"  where it goes (medians, s): {where}", flush=True)


def main() -> None:
    database = reset_postgres_database(
        POSTGRES_ADMIN_URL, "runbook_bench_events_prefect", for_prefect=True
    )
    root = Path(tempfile.mkdtemp(prefix="bench-events-"))
    with local_prefect_server(database) as server:
        fast = measure(server, root, 0.5, 0)
        report("runbook serve (--poll 0.5, forked runs: the defaults)", fast)  # printed as it ends
        spawned = measure(server, root, 0.5, 150, spawn=True)  # past days: future ones refused
        report("runbook serve --spawn (--poll 0.5, a new process per run)", spawned)
        slow = measure(server, root, 10.0, 300, spawn=True)
    report("baseline: Prefect's defaults (--poll 10 --spawn)", slow)
    p50, p95 = p(fast[0]["running"], 0.5), p(fast[0]["running"], 0.95)
    ratio = p50 / p(slow[0]["running"], 0.5)
    start_ratio = p(fast[0]["start"], 0.5) / p(spawned[0]["start"], 0.5)
    print(f"event -> running p50 {p50:.2f} s (goal <= 1.5), p95 {p95:.2f} s; p50 ratio to "
          f"baseline {ratio:.2f}; start, forked to spawned: {start_ratio:.2f}")  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work slows `start`)")


if __name__ == "__main__":
    main()
