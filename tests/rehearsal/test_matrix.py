"""The rehearsal matrix: every pipeline x variant x scenario does at least as well as declared.

Each cell breaks a pipeline in scratch copies, lets its runbook recover (the rehearsal
answers the gate), and compares the result with a clean run of the same data. The table is
printed (`pytest -s` shows it); a cell worse than `rehearsal/expectations.yaml` fails the test.

What runs where: CI (`make test`) plays a declared subset on SQLite, every variant in every
scenario once with the pipelines rotated, plus damaged second copies and first publications
(46 cells, about 2 minutes with 4 workers on a 2-core machine); the same subset on PostgreSQL
(45 other cells) is `slow` and runs in the full suite (`make test-full`); the whole matrix
(272 cells per backend) is marked `matrix`
and runs with `make test-matrix` (or `runbook rehearse --all`).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from prefect.settings import PREFECT_API_URL

from rehearsal.cells import Cell, all_cells, rotated_cells, select_cells
from rehearsal.expectations import Outcome, load_expectations
from rehearsal.matrix import run_cells
from rehearsal.play import Options
from rehearsal.table import render, worse_report, worse_than_declared
from rehearsal.workspace import Backend, Template

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(3600)]

JOBS = int(os.environ.get("RUNBOOK_REHEARSAL_JOBS", "4"))
OPTIONS = Options(later_after=2.0)


def play(cells: list[Cell], template: Template) -> str:
    expected = load_expectations()
    results = list(run_cells(cells, template, OPTIONS, jobs=JOBS, api_url=PREFECT_API_URL.value()))
    table = render(results, expected)
    print(table)
    assert len(results) == len(cells)
    wrong = [f"  {r.cell.label}: {r.reason}" for r in results if r.outcome is Outcome.WRONG]
    assert not wrong, "WRONG:\n" + "\n".join(wrong) + f"\n\n{table}"
    worse = worse_than_declared(results, expected)
    assert not worse, f"{worse_report(worse, expected)}\n\n{table}"
    return table


def test_every_variant_and_scenario_on_sqlite(
    prefect_server: None, templates: Callable[[Backend], Template]
) -> None:
    play(rotated_cells(0), templates("sqlite"))


@pytest.mark.postgres
@pytest.mark.slow
def test_every_variant_and_scenario_on_postgresql(
    prefect_server: None, templates: Callable[[Backend], Template]
) -> None:
    play(rotated_cells(2), templates("postgres"))


@pytest.mark.matrix
def test_the_whole_matrix_on_sqlite(
    prefect_server: None, templates: Callable[[Backend], Template]
) -> None:
    play(all_cells(), templates("sqlite"))


@pytest.mark.matrix
@pytest.mark.postgres
def test_the_whole_matrix_on_postgresql(
    prefect_server: None, templates: Callable[[Backend], Template]
) -> None:
    play(all_cells(), templates("postgres"))


def test_one_cell_in_process_tells_its_story(
    prefect_server: None, templates: Callable[[Backend], Template]
) -> None:
    (cell,) = select_cells(["aggregate_engagement"], None, ["held_back"], ["persisting"])
    said: list[str] = []
    (result,) = run_cells([cell], templates("sqlite"), OPTIONS, say=said.append)
    assert result.outcome is Outcome.RECOVERED, result.reason
    story = "\n".join(said)
    assert "pipeline.failed kind=late_arriving_data" in story
    assert "the runbook runs (persisting)" in story
