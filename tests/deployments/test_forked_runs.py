"""Served runs start as forks of a warm parent: the run is the same, its start is not.

A real Prefect server and Prefect's own runner, as `runbook serve` runs them: each flow run
must run in a child of the forkserver (not a new interpreter), see the environment the
runner built for that run (its id, the API), end in the state it earned, and stop when
cancelled from the server.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import os
import textwrap
import time
from multiprocessing import forkserver
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.flows import load_flow_from_entrypoint
from prefect.runner import Runner, _starter_engine
from prefect.settings import get_current_settings
from prefect.states import Cancelling

from deployments.forked_runs import forked_runs, is_engine_command

pytestmark = pytest.mark.prefect

PROBE = """
import json, os, sys, time
from prefect import flow
from prefect.settings import get_current_settings


@flow
def probe(out: str, fail: bool = False) -> None:
    with open(out, "w") as f:
        json.dump(
            {
                "pid": os.getpid(),
                "ppid": os.getppid(),
                "run": os.environ.get("PREFECT__FLOW_RUN_ID"),
                "api": get_current_settings().api.url,
                "argv": sys.argv,
            },
            f,
        )
    if fail:
        raise RuntimeError("the probe was asked to fail")


@flow
def sleeper(out: str) -> None:
    open(out, "w").write(str(os.getpid()))
    time.sleep(600)
"""


def test_the_seam_is_where_prefect_says_it_is() -> None:
    """The runner's engine starter still calls the module's `run_process` (else no fork)."""
    assert callable(_starter_engine.run_process)
    assert "await run_process(" in inspect.getsource(_starter_engine.EngineCommandStarter.start)
    assert is_engine_command(["/venv/bin/python", "-m", "prefect.engine"])
    assert not is_engine_command(["/venv/bin/python", "-m", "something.else"])


async def _serve_runs(tmp_path: Path, starts: list[dict], cancel_after_start: bool) -> dict:
    """Serve the probe flows with a forking runner; start `starts`; return each run's end."""
    module = tmp_path / "forked_probe.py"
    module.write_text(textwrap.dedent(PROBE), encoding="utf-8")
    runner = Runner(query_seconds=0.5, limit=4)
    names = {}
    for name in ("probe", "sleeper"):
        flow = load_flow_from_entrypoint(f"{module}:{name}")
        deployment = await flow.ato_deployment(name=f"forked-{name}")
        names[name] = await runner.aadd_deployment(deployment)
    ended: dict[UUID, object] = {}
    with forked_runs():
        task = asyncio.create_task(runner.start())
        async with get_client() as client:
            runs = [
                await client.create_flow_run_from_deployment(names[s["flow"]], parameters=s["with"])
                for s in starts
            ]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(ended) < len(runs):
                for run in runs:
                    current = await client.read_flow_run(run.id)
                    assert current.state is not None
                    if cancel_after_start and current.state.type == StateType.RUNNING:
                        out = Path(run.parameters["out"])
                        if out.exists():
                            await client.set_flow_run_state(run.id, Cancelling(), force=True)
                    if current.state.is_final():
                        ended[run.id] = current.state
                await asyncio.sleep(0.3)
        await runner.astop()
        await asyncio.wait_for(task, 60)
    return {run.id: ended.get(run.id) for run in runs}


def test_each_run_is_a_fork_that_sees_its_own_run(prefect_server: None, tmp_path: Path) -> None:
    starts = [
        {"flow": "probe", "with": {"out": str(tmp_path / "a.json")}},
        {"flow": "probe", "with": {"out": str(tmp_path / "b.json"), "fail": True}},
    ]
    ended = asyncio.run(_serve_runs(tmp_path, starts, cancel_after_start=False))
    states = list(ended.values())
    assert [s.type if s else None for s in states] == [StateType.COMPLETED, StateType.FAILED]
    seen = [json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json")]
    server_pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    for run_id, facts in zip(ended, seen, strict=True):
        assert facts["ppid"] == server_pid != os.getpid(), "not a fork of the warm parent"
        assert facts["run"] == str(run_id), "the child runs the run the runner picked up"
        assert facts["api"] == get_current_settings().api.url
        assert len(facts["argv"]) == 1 and facts["argv"][0].endswith("prefect/engine.py")
    assert seen[0]["pid"] != seen[1]["pid"]


# Prefect's runner leaves its control connection to a cancelled child to the collector
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_forked_run_stops_when_cancelled(prefect_server: None, tmp_path: Path) -> None:
    starts = [{"flow": "sleeper", "with": {"out": str(tmp_path / "sleeping.pid")}}]
    started = time.monotonic()
    ended = asyncio.run(_serve_runs(tmp_path, starts, cancel_after_start=True))
    gc.collect()  # while this test's filter holds
    (state,) = ended.values()
    assert state is not None and state.type == StateType.CANCELLED
    assert time.monotonic() - started < 90
    pid = int((tmp_path / "sleeping.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
