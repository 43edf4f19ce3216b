"""`runbook rehearse` stopped by SIGTERM leaves nothing running and nothing behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(240)]  # a scratch Prefect server

API_LINE = re.compile(r"Prefect API (http://127\.0\.0\.1:\d+/api)")


def read_until(process: subprocess.Popen[str], wanted: str, seen: list[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if wanted in line:
            return line
    raise AssertionError(f"`{wanted}` never printed; output:\n{''.join(seen)}")


def test_sigterm_mid_cell_stops_the_scratch_server_and_removes_the_scratch_data(
    tmp_path: Path,
) -> None:
    scratch = tmp_path / "scratch"  # its own: other tests rehearse at the same time
    scratch.mkdir()
    env = {
        **os.environ,
        "RUNBOOK_DATA_DIR": str(tmp_path / "data"),
        "RUNBOOK_SCRATCH_DIR": str(scratch),
    }
    cell = ["aggregate_growth", "--fault", "late_arriving_data", "--scenario", "persisting"]
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "runbook_cli", "rehearse", *cell],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as process:
        try:
            match = API_LINE.search(read_until(process, "Prefect API", seen))
            assert match, seen
            api_url = match.group(1)
            read_until(process, "the runbook runs", seen)  # mid-cell: a recovery is running
            assert list(scratch.glob("rehearsal-*")), "the cell's scratch copies are elsewhere"
            assert httpx.get(f"{api_url}/health", timeout=5).status_code == 200
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=90) == 128 + signal.SIGTERM, "".join(seen)
        finally:
            if process.poll() is None:
                process.kill()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api_url}/health", timeout=5)
    assert list(scratch.iterdir()) == []
