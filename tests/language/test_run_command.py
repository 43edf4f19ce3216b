"""`runbook run` as an operator meets it: a fresh data folder, and a stop while a step waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
from typer.testing import CliRunner

from foundation.settings import PROJECT_ROOT, temporary_settings
from runbook_cli.main import app
from tests.conftest import migrated_audit_url

WAITING = """
runbook: waiting
pipeline: unit_profit_experiments
steps:
  - id: hold
    uses: test.sleep
    with: {seconds: 600}
"""


def test_a_fresh_data_folder_costs_one_line_naming_the_set_up_command(tmp_path: Path) -> None:
    with temporary_settings(data_dir=tmp_path, audit_url=f"sqlite:///{tmp_path / 'audit.db'}"):
        result = CliRunner().invoke(app, ["run", "aggregate-profit"])

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith("error: The audit ledger at ")
    assert lines[0].endswith("run `runbook data migrate` first")


@pytest.mark.prefect
def test_sigterm_while_a_step_waits_ends_the_process_at_once(
    prefect_server: None, tmp_path: Path
) -> None:
    runbook = tmp_path / "waiting.yaml"
    runbook.write_text(WAITING)
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "RUNBOOK_DATA_DIR": str(tmp_path),
        "RUNBOOK_AUDIT_URL": migrated_audit_url(tmp_path / "audit.db"),
        "RUNBOOK_STEP_MODULES": '["tests.step_types"]',
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [str(Path(sys.executable).parent / "runbook"), "run", str(runbook)]
    with subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "Beginning flow run" in line:
                break
        time.sleep(3)  # the step is waiting (600 s)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            rest, _ = process.communicate(timeout=30)
        finally:
            process.kill()
    assert time.monotonic() - started < 30
    assert process.returncode == 128 + signal.SIGTERM, "".join(seen) + rest
    assert "waiting: stopped by SIGTERM; Prefect marked the run Crashed" in rest
