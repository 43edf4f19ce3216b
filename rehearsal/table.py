"""The matrix as a table: pipelines and variants down, scenarios across, against expectations.

Each cell shows its outcome; `!` marks a cell worse than declared (what fails CI), `+` one
better than declared (the expectations file can catch up). Below the table, every cell that
did not recover says why, and every mismatch with the expectations is listed.
"""

from __future__ import annotations

from rehearsal.cells import SCENARIOS
from rehearsal.expectations import Expectations, Outcome
from rehearsal.play import CellResult


def worse_than_declared(results: list[CellResult], expected: Expectations) -> list[CellResult]:
    """Cells whose outcome ranks below the declared one."""
    return [r for r in results if r.outcome.rank < expected.expected(r.cell).rank]


def worse_report(worse: list[CellResult], expected: Expectations) -> str:
    """The cells worse than declared, each with its reason: what a failing CI run must show."""
    lines = ["WORSE THAN DECLARED (rehearsal/expectations.yaml):"]
    lines += [
        f"  {r.cell.label}: {r.outcome}, declared {expected.expected(r.cell)} "
        f"({r.seconds:.0f}s): {r.reason}"
        for r in worse
    ]
    return "\n".join(lines)


def render(results: list[CellResult], expected: Expectations) -> str:
    """The table, the reasons and the mismatches, as text."""
    by_row: dict[tuple[str, str], dict[str, CellResult]] = {}
    for r in results:
        by_row.setdefault((r.cell.pipeline, r.cell.variant), {})[r.cell.scenario] = r
    width = max((len(p) for p, _ in by_row), default=8)
    head = f"{'pipeline':<{width}}  {'variant':<17}" + "".join(f"  {s:<13}" for s in SCENARIOS)
    lines = [head, "-" * len(head)]
    for (pipeline, variant), row in by_row.items():
        cells = "".join(f"  {_mark(row.get(s), expected):<13}" for s in SCENARIOS)
        lines.append(f"{pipeline:<{width}}  {variant:<17}{cells}")
    counts = {o: sum(1 for r in results if r.outcome is o) for o in Outcome}
    lines += [
        "",
        f"{len(results)} cells: " + ", ".join(f"{n} {o}" for o, n in counts.items()),
        f"slowest cell {max((r.seconds for r in results), default=0):.0f}s",
    ]
    not_recovered = [r for r in results if r.outcome is not Outcome.RECOVERED]
    if not_recovered:
        lines += ["", "Why the cells that did not recover did not:"]
        lines += [f"  {r.cell.label}: {r.outcome}: {r.reason}" for r in not_recovered]
    worse = worse_than_declared(results, expected)
    better = [r for r in results if r.outcome.rank > expected.expected(r.cell).rank]
    if worse:
        lines += ["", worse_report(worse, expected)]
    if better:
        lines += ["", "Better than declared (update rehearsal/expectations.yaml):"]
        lines += [f"  {r.cell.label}: {r.outcome}" for r in better]
    return "\n".join(lines)


def _mark(result: CellResult | None, expected: Expectations) -> str:
    if result is None:
        return "-"
    declared = expected.expected(result.cell)
    flag = (
        "!"
        if result.outcome.rank < declared.rank
        else "+"
        if result.outcome.rank > declared.rank
        else ""
    )
    return f"{result.outcome}{flag}"
