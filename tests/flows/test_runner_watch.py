"""Which process a run's orphan guard watches: its parent, or the runner it was told of."""

from __future__ import annotations

import os
import subprocess
import sys

from flows.runtime import orphan_guard
from flows.runtime.orphan_guard import RUNNER_PID, runner_watch


def test_a_named_runner_is_watched_until_it_ends(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(orphan_guard, "CHECK_SECONDS", 0.05)
    runner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        watch = runner_watch({RUNNER_PID: str(runner.pid)})
        assert watch is not None and watch() is True
    finally:
        runner.kill()
        runner.wait()
    assert watch() is False


def test_a_named_runner_already_gone_is_no_runner() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    watch = runner_watch({RUNNER_PID: str(gone.pid)})
    assert watch is not None and watch() is False


def test_without_a_name_the_parent_is_the_runner(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(orphan_guard, "CHECK_SECONDS", 0.01)
    watch = runner_watch({})
    assert os.getppid() > 1
    assert watch is not None and watch() is True
