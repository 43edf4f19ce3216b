"""`runbook emit` reports only what the server took: otherwise exit 1 and one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deployments.local_server import free_port
from foundation.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow  # a process of its own (Prefect reads its settings at import)

EMIT = ["emit", "aggregate_profit", "--kind", "etl_job_failure", "--partition", "2026-10"]


def emit(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run(
        [sys.executable, "-m", "runbook_cli", *EMIT],
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
