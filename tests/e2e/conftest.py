"""End to end: a real Prefect server (PostgreSQL-backed), a real webhook receiver, gated runs.

Each test module starts its own server (module-scoped) in a subprocess; a runbook runs in a
background thread of the test process against it, as a flow started by hand would.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from prefect.exceptions import PrefectHTTPStatusError
from prefect.input.run_input import keyset_from_paused_state

from flows.approval.answering import Verdict, answer_gate
from flows.language.catalog import PipelineCatalog
from flows.language.validator import validate_text
from flows.runtime.compiler import compile_runbook
from flows.runtime.prefect_client import prefect_client_context
from flows.runtime.run_services import open_command_services
from foundation.settings import PROJECT_ROOT, temporary_settings
from governance.config import load_governance
from governance.models import GovernanceConfig
from testing.prefect_server import LocalServer
from tests.gated_runbook import gated_runbook
from tests.prefect_servers import postgres_prefect_server

ENGINEERS = ("A", "B", "C", "D")


def start_server(database: str, *, ui: bool) -> Iterator[LocalServer]:
    """A PostgreSQL-backed Prefect server in a fresh database (drives a module fixture)."""
    with postgres_prefect_server(database, ui=ui) as server:
        yield server


@dataclass
class Webhook:
    """A real HTTP endpoint on a free loopback port recording JSON bodies POSTed, by path."""

    url: str
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, engineer: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.received.get(f"/{engineer}", []))

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float, what: str = "webhook posts"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.25)
        with self.lock:
            seen = {
                path: [b.get("reason") for b in bodies] for path, bodies in self.received.items()
            }
        raise AssertionError(f"no {what} within {timeout:.0f} s; received: {seen}")


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    received: dict[str, list[dict[str, Any]]] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"raw": raw.decode(errors="replace")}
            with lock:
                received.setdefault(self.path, []).append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Webhook(f"http://127.0.0.1:{server.server_address[1]}", received, lock)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def governance(
    webhook: Webhook, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GovernanceConfig]:
    """The shipped governance.yaml with each engineer's contact a webhook on the receiver."""
    text = (PROJECT_ROOT / "governance.yaml").read_text(encoding="utf-8")
    for name in ENGINEERS:
        old = f"  {name}: {{email: {name.lower()}@example.com}}"
        assert old in text, old
        text = text.replace(old, f"  {name}: {{webhook: {webhook.url}/{name}}}")
    path = tmp_path_factory.mktemp("governance") / "governance.yaml"
    path.write_text(text, encoding="utf-8")
    with temporary_settings(governance_file=path):
        yield load_governance(path)


@dataclass
class GatedRun:
    """An investor runbook running in a background thread against the module's server."""

    name: str
    target: Path
    thread: threading.Thread
    flow_run_id: str = ""
    result: list[Any] = field(default_factory=list)

    def final_state(self, timeout: float = 60) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the run did not finish"
        return self.result[0]

    def state(self) -> Any:
        return run_async(_read_state(self.flow_run_id))

    def wait_paused(self, key: str | None = None, timeout: float = 30) -> Any:
        """The run's Paused state (with this pause key, when given), its form saved.

        Prefect sets the Paused state first and saves the form's schema and description
        just after: until then the UI's Resume form and the evidence are not there yet.
        """
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.state()
            paused = state is not None and state.is_paused()
            keyed = paused and (key is None or state.state_details.pause_key == key)
            if keyed and self.description(state) is not None:
                return state
            time.sleep(0.2)
        raise AssertionError(f"flow run {self.flow_run_id} not paused ({key}); last: {state}")

    def description(self, state: Any) -> str | None:
        """The markdown shown above the Resume form for this Paused state (None: not yet)."""
        keyset = keyset_from_paused_state(state)
        return run_async(_read_input(self.flow_run_id, keyset["description"]))

    def answer(
        self, who: str, decision: str = "approve", comment: str = "", code: str = ""
    ) -> Verdict | None:
        """Answer the gate from outside the flow, as `runbook approve/reject` does."""
        with open_command_services() as services:
            return run_async(
                answer_gate(self.flow_run_id, who, decision, comment, services.ledger, code=code)
            )


def run_async(coro: Any) -> Any:
    """Run a coroutine to completion in a thread of its own, with this thread's settings.

    A thread of its own, because Playwright's sync API keeps an event loop on the test's
    thread; the copied context carries PREFECT_API_URL (set by `local_prefect_server`).
    """
    out: list[Any] = []
    errors: list[BaseException] = []
    context = contextvars.copy_context()

    def go() -> None:
        try:
            out.append(context.run(asyncio.run, coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    thread.join(120)
    if errors:
        raise errors[0]
    assert out, "coroutine did not finish"
    return out[0]


async def _read_state(flow_run_id: str) -> Any:
    async with get_client() as client:
        return (await client.read_flow_run(flow_run_id)).state  # type: ignore[arg-type]


async def _read_input(flow_run_id: str, key: str) -> Any:
    """A run input's value, None until it is saved (read on a client we close)."""
    async with get_client() as client:
        try:
            raw = await client.read_flow_run_input(flow_run_id, key)  # type: ignore[arg-type]
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code == 404:
                return None
            raise
    return json.loads(raw)


async def _find_run(flow_name: str) -> str | None:
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name]))
        )
    return str(runs[0].id) if runs else None


@pytest.fixture
def start_gated(catalog: PipelineCatalog, tmp_path: Path) -> Iterator[Callable[..., GatedRun]]:
    """Start gated runbooks (test.add → approval.on_call → test.publish to a marker file)."""
    runs: list[GatedRun] = []

    def start(gate: str = "approvers: [A, B], poll_interval: 1", timeout: str = "5m") -> GatedRun:
        name = f"e2e-{uuid.uuid4().hex[:8]}"
        target = tmp_path / f"{name}.published"
        text = gated_runbook(name, gate, timeout, target)
        compiled = compile_runbook(validate_text(text, f"{name}.yaml", catalog))
        run = GatedRun(name, target, threading.Thread(target=lambda: None))
        event = {
            "event": "pipeline.failed",
            "payload": {"kind": "data_quality", "partition": "2026-10"},
        }

        def go() -> None:
            with prefect_client_context():
                run.result.append(asyncio.run(compiled.flow(event=event, return_state=True)))

        # the flow's thread must see this thread's settings (the server's API URL)
        run.thread = threading.Thread(
            target=contextvars.copy_context().run, args=(go,), daemon=True
        )
        run.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = run_async(_find_run(name))
            if found:
                run.flow_run_id = found
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no flow run of {name} appeared")
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.thread.join(1)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Keep each phase's report on the item, so fixtures can tell a failed test at teardown."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
