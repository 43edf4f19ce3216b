"""How long `runbook` takes to answer, per command, against Python and Prefect's own CLI.

Each command runs RUNS times in a new process (`python -m runbook_cli ...` at the checkout's
root); the figure is the median wall time. Measured in the same run, interleaved with the
commands so that load from other work falls on all of them alike: `python -c pass` (the
floor of any Python command) and `prefect --help` (what importing Prefect costs). Goal:
every command that needs no Prefect answers in under 0.5 s; judged on CPU seconds, which is
what wall time comes to on an idle machine (on a shared one wall time includes waiting for a
core, hence the load average printed with the figures).

    .venv/bin/python bench/bench_cli_startup.py              # RUNS=9 by default
    .venv/bin/python bench/bench_cli_startup.py --root DIR   # another checkout (e.g. main)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("RUNS", "9"))
GOAL_SECONDS = 0.5
EVENT = {
    "event": "pipeline.failed",
    "resource": {"prefect.resource.id": "pipeline.aggregate_profit"},
    "payload": {"kind": "source_outage", "partition": "2026-03"},
}
COMMANDS: dict[str, list[str]] = {
    "runbook --help": ["--help"],
    "runbook validate": ["validate"],
    "runbook plan": ["plan", "aggregate-profit", "--event", "{event}"],
    "runbook graph": ["graph", "aggregate-profit", "--format", "svg"],
    "runbook schema": ["schema"],
    "runbook steps": ["steps"],
    "runbook oncall": ["oncall"],
    "runbook docs": ["docs", "--out", "{out}"],
}


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds from start to exit of one process, and the CPU seconds it used (user +
    system: less sensitive than wall time to other work on the machine)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {errors.decode(errors='replace')}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    root = parser.parse_args().root.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    (scratch / "event.json").write_text(json.dumps(EVENT), encoding="utf-8")
    python = sys.executable
    prefect = str(Path(python).with_name("prefect"))
    runs: dict[str, list[str]] = {"python -c pass": [python, "-c", "pass"]}
    runs["prefect --help"] = [prefect, "--help"]
    for label, args in COMMANDS.items():
        filled = [a.format(event=scratch / "event.json", out=scratch / "pages") for a in args]
        runs[label] = [python, "-m", "runbook_cli", *filled]
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in runs}
    for _ in range(RUNS):  # interleaved: a burst of load touches every command alike
        for label, command in runs.items():
            times[label].append(measure(command, root))
    walls = {label: statistics.median(w for w, _ in values) for label, values in times.items()}
    cpus = {label: statistics.median(c for _, c in values) for label, values in times.items()}
    floor, prefect_help = walls["python -c pass"], walls["prefect --help"]
    print(f"{root}: median of {RUNS} runs per command")
    print(
        f"{'command':<18} {'wall s':>7} {'cpu s':>6} {'x python':>9} {'/ prefect --help':>17}"
        "  goal (< 0.5 s CPU)"
    )
    for label, median in walls.items():
        goal = "" if label in ("python -c pass", "prefect --help") else (
            "met" if cpus[label] < GOAL_SECONDS else "MISSED"
        )  # fmt: skip
        print(
            f"{label:<18} {median:7.3f} {cpus[label]:6.3f} {median / floor:9.1f} "
            f"{median / prefect_help:17.2f}  {goal}"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}")


if __name__ == "__main__":
    main()
