"""Exactly one event door is live among the processes sharing a ledger: a second `runbook door`
stands by, and takes over when the first is killed outright.

The doors get a Prefect server of their own: a door starting on an empty ledger decides the
last hour of failure events it finds, and on the session's server those are every other
test's (hundreds, after the rehearsal matrix), which would bury the two events this test
sends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.events.emit import failure_event
from foundation.settings import temporary_settings
from governance.ledger.audit_ledger import Ledger
from testing.served import PROJECT_ROOT, post_events, stop, wait_for
from tests.prefect_servers import postgres_prefect_server

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.timeout(300)]
LIVE = "this process runs the event door"
STANDING_BY = "another process runs the event door on this ledger; standing by"


class Door:
    """A `runbook door` process and its log."""

    def __init__(self, name: str, data: Path, api_url: str) -> None:
        self.log = data / f"{name}.log"
        env = {
            **os.environ,
            "PREFECT_API_URL": api_url,
            "RUNBOOK_DATA_DIR": str(data),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "runbook_cli", "door"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def says(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with postgres_prefect_server("runbook_one_door_prefect") as server:
        yield server.api_url


@pytest.fixture
def doors(tmp_path: Path, api_url: str) -> Iterator[list[Door]]:
    started: list[Door] = []
    yield started
    for door in started:
        if door.process.poll() is None:
            stop(door.process)


def refused_event() -> dict:
    """An event of a pipeline nobody has: refused on record by whichever door is live."""
    body = failure_event("unit_profit_experiments", "etl_job_failure", "2026-01-01")
    event = body.model_dump(mode="json")
    event["resource"]["prefect.resource.id"] = f"pipeline.moon_{uuid.uuid4().hex[:8]}"
    return event


def decided(data: Path, event: dict) -> bool:
    with temporary_settings(data_dir=data):
        ledger = Ledger.from_settings()
        try:
            return ledger.outcomes.of_event(event["id"]) is not None
        finally:
            ledger.dispose()


def test_a_second_door_stands_by_and_takes_over_when_the_first_is_killed(
    tmp_path: Path, api_url: str, doors: list[Door]
) -> None:
    first = Door("first", tmp_path, api_url)
    doors.append(first)
    wait_for(lambda: first.says(LIVE), 120, "the first door")
    second = Door("second", tmp_path, api_url)
    doors.append(second)
    wait_for(lambda: second.says(STANDING_BY), 120, "the second door standing by")
    before = refused_event()
    post_events(api_url, [before])
    wait_for(lambda: decided(tmp_path, before), 60, "the live door's decision")
    assert not second.says(LIVE)  # one door live at a time

    first.process.send_signal(signal.SIGKILL)
    first.process.wait(30)
    wait_for(lambda: second.says(LIVE), 60, "the second door taking over")
    after = refused_event()
    post_events(api_url, [after])
    wait_for(lambda: decided(tmp_path, after), 60, "the second door's decision")
