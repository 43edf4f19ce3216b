"""Validate + compile one runbook of 1,000 / 5,000 / 10,000 steps; goal at 10k: < 2 s, < 300 MB.

Each size runs in its own process (so one size's memory does not count for the next):
- time: validate + compile, median of 3 runs, without tracing;
- memory: peak of Python allocations during one validate + compile (tracemalloc), and the
  process's peak resident set size (resource), which includes the interpreter and Prefect;
- baselines on the same text in the same process: `yaml.safe_load` (PyYAML, pure Python,
  what a plain loader costs) and `yaml.load(..., CSafeLoader)` (libyaml: the floor any
  validator of this file pays), with the ratio of ours to each.

The runbook is shaped like a real one, only longer: a partition param from the event,
chains of steps with cross links and templates reading upstream outputs, a `when:` on every
seventh step, retries and timeouts, then a report, an approval gate and a pinned investor
publication at the end, and a failure handler.

    .venv/bin/python bench/bench_language_scale.py            # 1k, 5k, 10k
    .venv/bin/python bench/bench_language_scale.py 20000      # any sizes
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1_000, 5_000, 10_000)
GOAL_SECONDS, GOAL_MB = 2.0, 300.0


def runbook_text(steps: int) -> str:
    """A runbook of `steps` ordinary steps plus report -> approve -> publish."""
    lines = [
        "runbook: bench-scale",
        "pipeline: bench_investor",
        "on:",
        "  - event: pipeline.failed",
        "    match: {prefect.resource.id: pipeline.bench_investor}",
        "params:",
        '  partition: {type: string, from: "{{ event.payload.partition }}"}',
        "steps:",
    ]
    for i in range(steps):
        lines += [f"  - id: s{i}", "    uses: bench.work"]
        if i >= 5:
            lines.append(f"    needs: [s{i - 5}" + (f", s{i - 6}]" if i % 5 else "]"))
            partition = f'"{{{{ steps.s{i - 5}.outputs.partition }}}}"'
        else:
            partition = '"{{ params.partition }}"'
        lines += [f"    with: {{partition: {partition}, table: t{i}, limit: {i % 100}}}"]
        if i % 3 == 0:
            lines += ["    retries: 2", "    retry_delay: 30s", "    timeout: 10m"]
        if i % 7 == 3 and i >= 5:
            lines.append(f"    when: steps.s{i - 5}.outputs.rows >= 0")
    last = [f"s{i}" for i in range(max(steps - 5, 0), steps)]
    lines += [
        "  - id: report",
        "    uses: reports.build",
        f"    needs: [{', '.join(last)}]",
        '    with: {partition: "{{ params.partition }}"}',
        "  - id: approve",
        "    uses: approval.on_call",
        "    needs: [report]",
        "    timeout: 3h",
        "  - id: publish",
        "    uses: publish.investor_portal",
        "    needs: [approve]",
        "    with:",
        '      partition: "{{ params.partition }}"',
        '      approved_sha256: "{{ steps.report.outputs.sha256 }}"',
        '      approved_feed_sha256: "{{ steps.report.outputs.feed_sha256 }}"',
        "on_failure:",
        "  - id: tell",
        "    uses: notify.engineers",
        '    with: {to: everyone, message: "bench failed for {{ params.partition }}"}',
    ]
    return "\n".join(lines) + "\n"


def measure(steps: int) -> dict[str, float]:
    """Time and memory of validate + compile at one size (run in a fresh process)."""
    sys.path.insert(0, str(ROOT))
    import yaml
    from pydantic import BaseModel, ConfigDict

    from flows.language.catalog import PipelineCatalog, PipelineInfo
    from flows.language.validator import validate_text
    from flows.runtime.compiler import compile_runbook
    from recovery_tasks.registry import step_type

    class WorkParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        partition: str
        table: str
        limit: int = 10

    class WorkResult(BaseModel):
        rows: int = 0
        partition: str = ""

    @step_type("bench.work", params=WorkParams, result=WorkResult)
    def work(params: WorkParams, ctx: object) -> WorkResult:
        """A step that does nothing: the bench times the language, not the work."""
        return WorkResult(rows=params.limit, partition=params.partition)

    catalog = PipelineCatalog(
        {"bench_investor": PipelineInfo("bench_investor", True, "fiscal_month")},
        frozenset({"A", "B", "C", "D"}),
    )
    compile_runbook(validate_text(runbook_text(20), "warm.yaml", catalog))  # imports, caches
    text = runbook_text(steps)

    def ours() -> None:
        compile_runbook(validate_text(text, "bench.yaml", catalog))

    def timed(fn: object, rounds: int) -> float:
        runs = []
        for _ in range(rounds):
            start = time.perf_counter()
            fn()  # type: ignore[operator]
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    rss_before = _max_rss_mb()
    seconds = timed(ours, 3)
    rss_after = _max_rss_mb()  # before the baselines run: this peak is ours alone
    safe_load = timed(lambda: yaml.safe_load(text), 1)
    c_load = timed(lambda: yaml.load(text, Loader=yaml.CSafeLoader), 3)
    tracemalloc.start()
    ours()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    yaml.safe_load(text)
    _, safe_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "steps": steps,
        "kb": len(text) / 1024,
        "seconds": seconds,
        "traced_mb": peak / 1e6,
        "rss_mb": rss_after,
        "rss_growth_mb": rss_after - rss_before,
        "safe_load_s": safe_load,
        "safe_load_mb": safe_peak / 1e6,
        "c_load_s": c_load,
    }


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    print("validate + compile one runbook (median of 3); baselines parse the same text")
    print(
        "peak MB: Python allocations during one validate + compile (tracemalloc); RSS MB: the "
        "process's peak resident memory (interpreter and Prefect included), +growth over warm-up"
    )
    header = (
        f"{'steps':>7} {'KiB':>6} {'ours s':>8} {'peak MB':>8} {'RSS MB':>12} "
        f"{'safe_load s':>11} {'ratio':>6} {'CSafe s':>8} {'ratio':>6} {'safe_load MB':>12}"
    )
    print(header)
    results = []
    for steps in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(steps)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        rss = f"{r['rss_mb']:.0f} (+{r['rss_growth_mb']:.0f})"
        print(
            f"{r['steps']:>7} {r['kb']:>6.0f} {r['seconds']:>8.3f} {r['traced_mb']:>8.1f} "
            f"{rss:>12} {r['safe_load_s']:>11.3f} {r['seconds'] / r['safe_load_s']:>6.2f} "
            f"{r['c_load_s']:>8.3f} {r['seconds'] / r['c_load_s']:>6.2f} "
            f"{r['safe_load_mb']:>12.1f}"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        growth = (b["seconds"] / a["seconds"]) / (b["steps"] / a["steps"])
        print(f"time per step at {b['steps']} vs {a['steps']}: {growth:.2f}x (1.00 = linear)")
    big = max(results, key=lambda r: r["steps"])
    met = big["seconds"] < GOAL_SECONDS and big["traced_mb"] < GOAL_MB
    print(
        f"goal at {big['steps']} steps: < {GOAL_SECONDS:.0f} s and < {GOAL_MB:.0f} MB: "
        f"{'met' if met else 'NOT met'} ({big['seconds']:.2f} s, {big['traced_mb']:.0f} MB traced)"
    )


if __name__ == "__main__":
    main()
