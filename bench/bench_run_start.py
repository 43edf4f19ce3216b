"""What a flow-run process spends before its flow runs: a bare Prefect flow against a runbook.

A served or worker run is a new `python -m prefect.engine` process that imports Prefect's
engine and then loads its flow from the deployment's entrypoint. For a runbook that is
`deployments.entrypoints.<name>`: the project's modules, then the runbook validated and
compiled. Each variant runs RUNS times in a new process, interleaved so load from other work
falls on all alike; figures are medians of wall and CPU seconds (CPU is the steadier one on
a busy machine):

- python:   `python -c pass`, the interpreter alone;
- floor:    Prefect's engine and flow engine imported and a one-line flow loaded from its
            file, which every flow-run process pays whatever it runs;
- modules:  the floor's imports plus `deployments.entrypoints` (the code a run needs);
- runbook:  the floor's imports plus the runbook's flow (modules, validation, compile).

`runbook - floor` is what the project adds to each run's start (event -> running and
approval -> published both contain one such start).

    .venv/bin/python bench/bench_run_start.py          # RUNS=9, RUNBOOK=unit-profit-experiments
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("RUNS", "9"))
RUNBOOK = os.environ.get("RUNBOOK", "unit-profit-experiments")
ROOT = Path(__file__).resolve().parent.parent
ENGINE = "import prefect.engine, prefect.flow_engine\n"
LOAD = "from prefect.utilities.importtools import import_object\nimport_object({!r})\n"
BARE_FLOW = "from prefect import flow\n\n@flow\ndef bare() -> None:\n    pass\n"


def measure(code: str) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of `python -c code` at the project's root."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {code}\n{errors.decode(errors='replace')}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def main() -> None:
    bare = Path(tempfile.mkdtemp(prefix="bench-run-start-")) / "bare_flow.py"
    bare.write_text(BARE_FLOW, encoding="utf-8")
    attribute = RUNBOOK.replace("-", "_")
    variants = {
        "python": "pass",
        "floor": ENGINE + LOAD.format(f"{bare}:bare"),
        "modules": ENGINE + "import deployments.entrypoints\n",
        "runbook": ENGINE + LOAD.format(f"deployments.entrypoints.{attribute}"),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(RUNS):
        for name, code in variants.items():
            times[name].append(measure(code))
    wall = {n: statistics.median(w for w, _ in v) for n, v in times.items()}
    cpu = {n: statistics.median(c for _, c in v) for n, v in times.items()}
    print(f"flow-run process start to its flow loaded, median of {RUNS} ({RUNBOOK})")
    print(f"{'':<9} {'wall s':>7} {'cpu s':>6} {'cpu / floor':>12}")
    for name in variants:
        print(f"{name:<9} {wall[name]:7.3f} {cpu[name]:6.3f} {cpu[name] / cpu['floor']:12.2f}")
    print(
        f"the project adds {wall['runbook'] - wall['floor']:.3f} s wall, "
        f"{cpu['runbook'] - cpu['floor']:.3f} s CPU to the floor "
        f"(modules {cpu['modules'] - cpu['floor']:.3f}, runbook set and compile "
        f"{cpu['runbook'] - cpu['modules']:.3f} s CPU)"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}")


if __name__ == "__main__":
    main()
