"""A soak of the production profile: the shipped runbooks on a work pool for about 15 minutes.

The team's profile (locked Prefect server, ledger, warehouse and portal on PostgreSQL, two
workers) with the sample data and a real investor portal. Failure events of every pipeline
arrive at random across a few dozen partitions (so duplicates and repeats of ended incidents
are common); the owners answer the gates at random (mostly approvals, some rejections); a
worker is SIGKILLed every few minutes and a new one started. At the end: every incident is
resolved, rejected or failed safe with a reason; the ledger and the portal agree version for
version; no runbook run is left running or waiting; the serving side's memory is flat.

`make test-soak` (RUNBOOK_SOAK_SECONDS sets the length; 900 by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flows.approval.answering import AnswerError, answer_gate
from flows.events.emit import deliver, failure_event
from flows.runtime.run_services import open_command_services
from governance.ledger import schema as t
from governance.ledger.records import IncidentState
from portal.client import PortalClient
from testing.prefect_server import free_port, reset_postgres_database
from tests.deployments.team import ROOT, Team, cli, locked_team, wait_for
from tests.e2e.serving import descendants, rss_kb
from tests.prefect_servers import ADMIN_URL, drop_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.soak,
    pytest.mark.postgres,
    pytest.mark.timeout(3600),
]

SECONDS = int(os.environ.get("RUNBOOK_SOAK_SECONDS", "900"))
EVENT_EVERY = 3.0  # about 300 failures in 15 minutes
KILL_EVERY = 180.0
TOKEN = "soak-portal-token"
ENDED = {
    IncidentState.RESOLVED,
    IncidentState.PUBLISHED,
    IncidentState.CLOSED,
    IncidentState.REJECTED,
    IncidentState.FAILED,
    IncidentState.NEEDS_ATTENTION,
    IncidentState.TIMED_OUT,
    IncidentState.CANCELLED,
}
PARTITIONS = {
    "aggregate_profit": [f"2025-{m:02d}" for m in range(1, 13)],
    "aggregate_engagement": [f"2025-{m:02d}" for m in range(1, 13)],
    "aggregate_growth": [f"2025-W{w:02d}" for w in range(2, 14)],
    "unit_profit_experiments": [f"2025-03-{d:02d}" for d in range(1, 13)],
    "daily_growth_experiments": [f"2025-04-{d:02d}" for d in range(1, 13)],
}
KINDS = ["etl_job_failure", "etl_job_failure", "source_outage", "storage_partition"]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    root = tmp_path_factory.mktemp("soak")
    portal_db = f"runbook_soak_portal_{os.getpid()}"
    portal_url = reset_postgres_database(ADMIN_URL, portal_db).replace(
        "postgresql+asyncpg", "postgresql+psycopg"
    )
    port = free_port()
    env = {
        "RUNBOOK_PORTAL_URL": f"http://127.0.0.1:{port}",
        "RUNBOOK_PORTAL_TOKEN": TOKEN,
        "RUNBOOK_PORTAL_DB_URL": portal_url,
        "RUNBOOK_PENDING_SILENCE_SECONDS": "180",  # runs a killed worker left Pending
    }
    try:
        with locked_team(root, "soak", env) as team:
            generated = cli(team, "runbook", "data", "generate")
            assert generated.returncode == 0, generated.stdout + generated.stderr
            migrated = cli(team, "runbook", "portal", "migrate")
            assert migrated.returncode == 0, migrated.stdout + migrated.stderr
            with (root / "portal.log").open("wb") as log:
                portal = subprocess.Popen(
                    [sys.executable, "-m", "runbook_cli", "portal", "serve", "--port", str(port)],
                    cwd=ROOT,
                    env=team.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                yield team
            finally:
                os.killpg(portal.pid, signal.SIGTERM)
                portal.wait(30)
    finally:
        drop_database(portal_db)


class Soak:
    """The three actors of the soak and what they saw."""

    def __init__(self, team: Team) -> None:
        self.team = team
        self.rng = random.Random(20261207)
        self.sent: Counter[str] = Counter()
        self.answers: Counter[str] = Counter()
        self.kills = 0
        self.memory: list[tuple[float, float, float]] = []  # (t, server MB, workers MB)
        self.stop = threading.Event()

    def emit_failures(self, until: float) -> None:
        while time.monotonic() < until:
            pipeline = self.rng.choice(sorted(PARTITIONS))
            partition = self.rng.choice(PARTITIONS[pipeline])
            kind = self.rng.choice(KINDS)
            event = failure_event(pipeline, kind, partition, detail="soak")
            asyncio.run(deliver([event]))
            self.sent[pipeline] += 1
            time.sleep(EVENT_EVERY)

    def answer_gates(self) -> None:
        from governance.config import load_governance

        governance = load_governance()
        while not self.stop.is_set():
            for run, pipeline in paused_runbook_runs():
                owners = governance.pipelines[pipeline].owners
                decision = "reject" if self.rng.random() < 0.1 else "approve"
                who = owners[1] if decision == "reject" else owners[0]
                try:
                    with open_command_services() as services:
                        asyncio.run(
                            answer_gate(str(run.id), who, decision, "soak", services.ledger, 0)
                        )
                    self.answers[decision] += 1
                except AnswerError:
                    self.answers["late"] += 1
            self.stop.wait(2)

    def kill_workers(self, until: float) -> None:
        while time.monotonic() < until - KILL_EVERY / 2:
            if self.stop.wait(KILL_EVERY):
                return
            victim = self.rng.choice(self.team.live_workers())
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(10)
            self.kills += 1
            self.team.start_worker()

    def watch_memory(self, started: float) -> None:
        server = server_pid(self.team)
        while not self.stop.wait(15):
            workers = sum(tree_rss_mb(w.pid) for w in self.team.live_workers())
            self.memory.append((time.monotonic() - started, tree_rss_mb(server), workers))


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    return sum(rss_kb(p) for p in descendants(pid)) / 1024


def server_pid(team: Team) -> int:
    """The `prefect server start` process of the team's server (found by its port)."""
    port = team.server.api_url.rsplit(":", 1)[1].split("/")[0]
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"server" in argv and port.encode() in argv:
            return int(entry.name)
    raise LookupError("the Prefect server's process is gone")


def paused_runbook_runs() -> list[tuple[Any, str]]:
    """Runs of runbook deployments waiting at a gate, with their pipeline."""
    return [(r, pipeline_of(r)) for r in runbook_runs() if r.state and r.state.is_paused()]


def pipeline_of(run: Any) -> str:
    return next(tag for tag in run.tags if tag in PARTITIONS)


def runbook_runs() -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    async def read() -> list[Any]:
        async with get_client() as client:
            runs: list[Any] = []
            while True:
                batch = await client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["runbook"])),
                    offset=len(runs),
                    limit=200,
                )
                runs += batch
                if len(batch) < 200:
                    return runs

    return asyncio.run(read())


def test_a_quarter_hour_of_failures_answers_and_killed_workers_converges(team: Team) -> None:
    soak = Soak(team)
    started = time.monotonic()
    until = started + SECONDS
    # each actor talks to the team's server: the thread runs in a copy of this context
    actors = [
        threading.Thread(target=contextvars.copy_context().run, args=job, daemon=True)
        for job in (
            (soak.answer_gates,),
            (soak.kill_workers, until),
            (soak.watch_memory, started),
        )
    ]
    for actor in actors:
        actor.start()
    soak.emit_failures(until)

    def unsettled() -> list[str]:
        return [f"{r.name} {r.tags} {r.state}" for r in recovery_runs() if not settled(r)]

    with contextlib.suppress(AssertionError):
        wait_for(lambda: not unsettled(), 900, "every runbook run ended")
    left = unsettled()
    assert not left, f"runbook runs still running or waiting after the soak: {left}"
    soak.stop.set()
    for actor in actors:
        actor.join(60)

    states = incident_states(team)
    publications = ledger_publications(team)
    portal = portal_versions(team, {(p, q) for p, q, _ in publications})
    print(report(soak, states, publications, time.monotonic() - started))

    assert sum(soak.sent.values()) >= SECONDS / EVENT_EVERY / 2
    open_ones = {i: s for i, (s, _) in states.items() if s not in ENDED}
    assert not open_ones, f"incidents left open: {open_ones}"
    unexplained = [i for i, (s, why) in states.items() if s != "resolved" and not why]
    assert not unexplained, f"incidents ended without a reason: {unexplained}"
    assert {(p, q, k): v for (p, q, k), v in publications.items()} == portal
    assert publications, "nothing was published in a quarter of an hour"
    late = [m for _, m, _ in soak.memory[len(soak.memory) // 2 :]]
    early = [m for _, m, _ in soak.memory[: max(1, len(soak.memory) // 4)]]
    assert max(late) < 1.5 * max(early) + 100, soak.memory  # the server's memory is flat


def settled(run: Any) -> bool:
    return run.state is not None and run.state.is_final()


def recovery_runs() -> list[Any]:
    """Runbook runs of the shipped runbooks (a scheduled report or watch is not one)."""
    return [r for r in runbook_runs() if any(tag in PARTITIONS for tag in r.tags)]


def incident_states(team: Team) -> dict[int, tuple[str, str]]:
    """Each incident's current state and the detail of the event that put it there."""
    with open_command_services(audit_url=team.env["RUNBOOK_AUDIT_URL"]) as services:
        ledger = services.ledger
        with ledger.engine.connect() as conn:
            ids = [row.id for row in conn.execute(sa.select(t.incidents.c.id))]
        out = {}
        for incident_id in ids:
            state = ledger.incidents.current_state(incident_id)
            last = [e for e in ledger.incidents.events(incident_id) if e.state == state]
            out[incident_id] = (state, str(last[-1].detail) if last else "")
        return out


def ledger_publications(team: Team) -> dict[tuple[str, str, str], list[tuple[int, str]]]:
    """(pipeline, partition, kind) → [(version, sha256)] as the ledger recorded them."""
    with open_command_services(audit_url=team.env["RUNBOOK_AUDIT_URL"]) as services:
        p = t.publications
        query = sa.select(p.c.pipeline, p.c.partition, p.c.kind, p.c.version, p.c.sha256)
        with services.ledger.engine.connect() as conn:
            rows = conn.execute(query.order_by(p.c.version)).all()
    out: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    for pipeline, partition, kind, version, sha in rows:
        out.setdefault((pipeline, partition, kind), []).append((version, sha))
    return out


def portal_versions(
    team: Team, series: set[tuple[str, str]]
) -> dict[tuple[str, str, str], list[tuple[int, str]]]:
    """The same, as the investor portal holds it (every version of each series)."""
    client = PortalClient(team.env["RUNBOOK_PORTAL_URL"], TOKEN)
    out: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    try:
        for summary in client.publications():
            history = client.history(summary.pipeline, summary.partition, summary.kind)
            assert history is not None
            versions = sorted((r.version, r.sha256) for r in history.history)
            out[(summary.pipeline, summary.partition, summary.kind)] = versions
    finally:
        client.close()
    return out


def report(soak: Soak, states: dict[int, tuple[str, str]], publications: dict, took: float) -> str:
    memory = [f"{t:.0f}s server {s:.0f} MB workers {w:.0f} MB" for t, s, w in soak.memory[::8]]
    return "\n".join(
        [
            f"soak: {took:.0f} s, {sum(soak.sent.values())} failure events {dict(soak.sent)}",
            f"incidents: {len(states)} {dict(Counter(s for s, _ in states.values()))}",
            f"answers: {dict(soak.answers)}; workers SIGKILLed: {soak.kills}",
            f"series published: {len(publications)}, versions "
            f"{sum(len(v) for v in publications.values())}",
            *memory,
        ]
    )
