"""One holder of a role among the processes sharing the ledger; a dead holder frees it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from foundation.engines import engine_for
from governance.ledger.role_lock import RoleLock, role_lock
from tests.governance.conftest import POSTGRES_URL

HOLDER = """
import sys, time
from foundation.engines import engine_for
from governance.ledger.role_lock import role_lock
lock = role_lock(engine_for(sys.argv[1]), sys.argv[2])
assert lock.acquire()
print("held", flush=True)
time.sleep(600)
"""
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.db'}" if request.param == "sqlite" else POSTGRES_URL


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def lock_on(url: str, role: str, engines: list[Engine]) -> RoleLock:
    engines.append(engine_for(url))
    return role_lock(engines[-1], role)


def test_a_second_holder_waits_until_the_first_lets_go(url: str, engines: list[Engine]) -> None:
    role = f"door-{time.monotonic_ns()}"
    first, second = (lock_on(url, role, engines) for _ in range(2))
    assert first.acquire() and first.held()
    assert not second.acquire() and not second.held()
    assert first.acquire()  # taking it again while held is a no-op
    first.release()
    assert not first.held()
    assert second.acquire() and second.held()
    assert not first.acquire()
    second.release()


def test_a_holder_killed_outright_frees_the_role(url: str, engines: list[Engine]) -> None:
    role = f"door-{time.monotonic_ns()}"
    command = [sys.executable, "-c", HOLDER, url, role]
    with subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        standby = lock_on(url, role, engines)
        assert not standby.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        deadline = time.monotonic() + 30  # PostgreSQL notices the closed session
        while not standby.acquire():
            assert time.monotonic() < deadline, "the dead holder's lock was never freed"
            time.sleep(0.2)
        assert standby.held()
        standby.release()
