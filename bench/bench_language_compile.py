"""Validate + compile 100 runbooks of 50 steps each; goal: under 1 s in total.

Baseline measured in the same run: parsing the same YAML texts with PyYAML's C loader alone,
the floor any validator of these files pays. Prints seconds, per-runbook cost and the ratio.

    .venv/bin/python bench/bench_language_compile.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.language.catalog import PipelineInfo
from flows.language.validator import validate_text
from flows.runtime.compiler import compile_runbook
from recovery_tasks.registry import step_type

RUNBOOKS, STEPS, ROUNDS = 100, 50, 5


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
    """A step that does nothing measurable: the bench times the language, not the work."""
    return WorkResult(rows=params.limit, partition=params.partition)


def runbook_text(n: int) -> str:
    """A 50-step runbook: five chains with cross links, templates reading upstream outputs."""
    lines = [
        f"runbook: bench-{n}",
        "pipeline: bench_pipeline",
        "params:",
        '  partition: {type: string, from: "{{ event.payload.partition }}"}',
        "steps:",
    ]
    for i in range(STEPS):
        lines += [f"  - id: s{i}", "    uses: bench.work"]
        if i >= 5:
            lines.append(f"    needs: [s{i - 5}" + (f", s{i - 6}]" if i % 5 else "]"))
            partition = f'"{{{{ steps.s{i - 5}.outputs.partition }}}}"'
        else:
            partition = '"{{ params.partition }}"'
        lines += [
            f"    with: {{partition: {partition}, table: t{i}, limit: {i}}}",
            "    retries: 1",
            "    timeout: 10m",
        ]
        if i % 7 == 3:
            lines.append(
                f'    when: "steps.s{i - 5}.outputs.rows >= 0"'
                if i >= 5
                else "    when: \"params.partition != ''\""
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    texts = [runbook_text(n) for n in range(RUNBOOKS)]
    catalog = {"bench_pipeline": PipelineInfo("bench_pipeline", False)}
    for text in texts[:2]:  # warm imports and caches outside the timings
        compile_runbook(validate_text(text, "warm.yaml", catalog))
    ours, floor = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for text in texts:
            yaml.load(text, Loader=yaml.CSafeLoader)
        floor.append(time.perf_counter() - start)
        start = time.perf_counter()
        for n, text in enumerate(texts):
            compile_runbook(validate_text(text, f"bench-{n}.yaml", catalog))
        ours.append(time.perf_counter() - start)
    mine, base = statistics.median(ours), statistics.median(floor)
    print(f"runbooks: {RUNBOOKS} x {STEPS} steps, median of {ROUNDS} rounds")
    print(f"validate + compile: {mine:.3f} s total, {mine / RUNBOOKS * 1000:.2f} ms per runbook")
    print(f"baseline (PyYAML C parse only): {base:.3f} s")
    print(
        f"ratio to baseline: {mine / base:.2f}x; goal under 1 s total: "
        f"{'met' if mine < 1 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
