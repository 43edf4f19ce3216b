"""A database the `runbook` command cannot reach costs one line naming it and the next step."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from foundation.settings import PROJECT_ROOT, AppSettings
from runbook_cli.unreachable import unreachable_line


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def runbook(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "runbook"), *args]
    environment = {**os.environ, "RUNBOOK_DATA_DIR": str(tmp_path), **env}
    return subprocess.run(
        command, env=environment, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "1"],
        ["retry", "1", "--as", "A", "--reason", "the source is back"],
        ["report"],
        ["run", "aggregate-profit"],
    ],
)
def test_a_ledger_nobody_can_reach_is_one_line_naming_it_and_what_to_do(
    args: list[str], tmp_path: Path
) -> None:
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{closed_port()}/test"

    done = runbook(args, tmp_path, RUNBOOK_AUDIT_URL=url)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "sqlalchemy" not in done.stderr.lower()
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: the audit ledger at {url.replace(':secret', ':***')} ")
    assert "Connection refused" in line and "secret" not in line
    assert line.endswith(
        "start it or point RUNBOOK_AUDIT_URL at a running database, then run the command again"
    )


def test_an_unreachable_warehouse_is_named_as_the_warehouse(tmp_path: Path) -> None:
    warehouse = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    ledger = f"sqlite:///{tmp_path / 'audit.db'}"

    done = runbook(
        ["data", "migrate"], tmp_path, RUNBOOK_WAREHOUSE_URL=warehouse, RUNBOOK_AUDIT_URL=ledger
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: the warehouse at {warehouse} cannot be reached (")
    assert "point RUNBOOK_WAREHOUSE_URL at a running database" in line


def test_a_refusal_by_stores_that_all_open_lists_them_instead_of_guessing(tmp_path: Path) -> None:
    settings = AppSettings().with_updates(data_dir=tmp_path)
    refused = OperationalError("UPDATE incidents", {}, Exception("attempt to write a readonly db"))

    line = unreachable_line(refused, settings)

    assert line.startswith("a database refused the command (attempt to write a readonly db);")
    warehouse = tmp_path / "warehouse.db"
    assert f"the audit ledger and the warehouse at sqlite:///{warehouse}," in line
    assert f"the portal's database at sqlite:///{tmp_path / 'portal.db'}" in line
    assert line.endswith("are running and writable, then run it again")
