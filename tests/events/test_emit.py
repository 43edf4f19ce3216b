"""`runbook emit` reports only what the server took: otherwise exit 1 and one line; `serve`
and `approve` stop in one line too when the server wants a login they do not have."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from foundation.settings import PROJECT_ROOT
from testing.prefect_server import free_port, local_prefect_server

pytestmark = pytest.mark.prefect  # a process of its own (Prefect reads its settings at import)

LOGIN = "runbooks:s3cret"
EMIT = ["emit", "aggregate_profit", "--kind", "etl_job_failure", "--partition", "2026-10"]


def emit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(EMIT, env)


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`runbook ARGS` in a process of its own with only these PREFECT_API_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run(
        [sys.executable, "-m", "runbook_cli", *args],
        cwd=PROJECT_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_emit_against_a_dead_server_exits_non_zero_in_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    result = emit({"PREFECT_API_URL": url})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: event not delivered: cannot reach the Prefect server at {url}: ConnectError: "
        "All connection attempts failed"
    ]


def test_emit_without_an_api_exits_non_zero_saying_what_to_set() -> None:
    result = emit({})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: event not delivered: no Prefect API configured: set PREFECT_API_URL (e.g. "
        "http://127.0.0.1:4200/api) to the server that runs the recoveries"
    ]


@pytest.fixture(scope="module")
def locked_server() -> Iterator[str]:
    """A Prefect server with basic auth (its own SQLite database); its API URL."""
    with local_prefect_server(extra_env={"PREFECT_SERVER_API_AUTH_STRING": LOGIN}) as server:
        yield server.api_url


def test_emit_without_the_login_exits_non_zero_naming_the_setting(locked_server: str) -> None:
    result = emit({"PREFECT_API_URL": locked_server})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: event not delivered: 401 Unauthorized from {locked_server}: the Prefect server "
        "requires a login: set PREFECT_API_AUTH_STRING=user:password (the server's "
        "PREFECT_SERVER_API_AUTH_STRING)"
    ]


def test_emit_with_the_login_is_delivered(locked_server: str) -> None:
    result = emit({"PREFECT_API_URL": locked_server, "PREFECT_API_AUTH_STRING": LOGIN})
    assert result.returncode == 0, result.stderr
    assert '"partition": "2026-10"' in result.stdout


@pytest.mark.parametrize("command", [["serve"], ["approve", str(uuid.uuid4()), "--as", "A"]])
def test_serve_and_approve_without_the_login_stop_in_one_line(
    locked_server: str, command: list[str]
) -> None:
    result = run_cli(command, {"PREFECT_API_URL": locked_server})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: 401 Unauthorized from {locked_server}: the Prefect server requires a login: set "
        "PREFECT_API_AUTH_STRING=user:password (the server's PREFECT_SERVER_API_AUTH_STRING)"
    ]
