"""Run a gated runbook in the background and answer it the way an engineer would."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter
from prefect.exceptions import PrefectHTTPStatusError

from flows.approval.answering import Verdict, answer_gate
from flows.language.catalog import PipelineCatalog, PipelineInfo
from flows.language.validator import validate_text
from flows.runtime.compiler import compile_runbook
from flows.runtime.prefect_client import prefect_client_context
from flows.runtime.run_services import open_command_services
from governance.ledger.audit_ledger import Ledger
from tests.gated_runbook import PUBLISHED_PARTITION, gated_runbook


@dataclass
class GatedRun:
    """A runbook run in a background thread, paused at its gate."""

    name: str
    target: Path
    thread: threading.Thread
    result: list[Any] = field(default_factory=list)
    flow_run_id: str = ""

    def final_state(self, timeout: float = 60) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the run did not finish"
        return self.result[0]

    def answer(
        self, who: str, decision: str = "approve", comment: str = "", code: str = ""
    ) -> Verdict | None:
        wait_until_paused(self.flow_run_id)
        with open_command_services() as services:
            return asyncio.run(
                answer_gate(self.flow_run_id, who, decision, comment, services.ledger, code=code)
            )


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    """The configured audit ledger, as the commands open it (disposed after the test)."""
    with open_command_services() as services:
        yield services.ledger


def flow_run_state(flow_run_id: str) -> Any:
    async def read() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(flow_run_id)).state  # type: ignore[arg-type]

    return asyncio.run(read())


def run_input(flow_run_id: str, key: str, timeout: float = 10) -> Any:
    """A run input's value as Prefect stores it (the Resume form's schema, an answer...).

    Prefect marks a run Paused a moment before it saves the form: wait for it."""

    async def read() -> Any:
        async with get_client() as client:
            try:
                raw = await client.read_flow_run_input(flow_run_id, key)  # type: ignore[arg-type]
            except PrefectHTTPStatusError as exc:
                if exc.response.status_code == 404:
                    return None
                raise
        return json.loads(raw)

    deadline = time.monotonic() + timeout
    while (value := asyncio.run(read())) is None:
        assert time.monotonic() < deadline, f"no run input {key} on {flow_run_id}"
        time.sleep(0.2)
    return value


def wait_until_paused(flow_run_id: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = flow_run_state(flow_run_id)
        if state is not None and state.is_paused():
            return state
        time.sleep(0.2)
    raise AssertionError(f"flow run {flow_run_id} did not pause")


def _find_run(flow_name: str, timeout: float = 30) -> str:
    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                flow_run_filter=FlowRunFilter(),
            )

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = asyncio.run(read())
        if runs:
            return str(runs[0].id)
        time.sleep(0.2)
    raise AssertionError(f"no flow run of {flow_name} appeared")


@pytest.fixture
def start_gated(
    prefect_server: None, catalog: PipelineCatalog, tmp_path: Path
) -> Iterator[Callable[..., GatedRun]]:
    runs: list[GatedRun] = []

    def start(
        needed: int = 1,
        timeout: str = "5m",
        triggered_by: str | None = None,
        approvers: str | None = "A, B",
        pipeline: str = "aggregate_profit",
        publishes: str | None = None,
        partition: str = "2026-10",
        published_partition: str = PUBLISHED_PARTITION,
    ) -> GatedRun:
        name = f"gated-{uuid.uuid4().hex[:8]}"
        target = tmp_path / f"{name}.published"
        gate = f"min_approvals: {needed}, poll_interval: 1"
        gate += f", approvers: [{approvers}]" if approvers is not None else ""
        gate += f", pipeline: {publishes}" if publishes else ""
        text = gated_runbook(
            name,
            gate,
            timeout,
            target,
            pipeline=pipeline,
            publishes=publishes,
            published_partition=published_partition,
        )
        known = {pipeline: PipelineInfo(pipeline, False), **catalog}  # the runbook's own too
        compiled = compile_runbook(validate_text(text, f"{name}.yaml", known))
        run = GatedRun(name, target, threading.Thread(daemon=True, target=lambda: None))

        def go() -> None:
            event = {
                "event": "pipeline.failed",
                "payload": {"kind": "data_quality", "partition": partition},
            }
            with prefect_client_context():
                state = asyncio.run(
                    compiled.flow(event=event, triggered_by=triggered_by, return_state=True)
                )
            run.result.append(state)

        run.thread = threading.Thread(target=go, daemon=True)
        run.thread.start()
        run.flow_run_id = _find_run(name)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.thread.join(1)
