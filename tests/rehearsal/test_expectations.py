"""The declared outcomes: every cell has one, WRONG is never declared, typos are errors."""

from __future__ import annotations

import pytest

from rehearsal.cells import Cell, all_cells, select_cells, variant_kind
from rehearsal.expectations import Expectations, ExpectationsError, Outcome, load_expectations
from warehouse.failures import FailureKind


def test_the_matrix_is_every_pipeline_variant_and_scenario() -> None:
    cells = all_cells()
    assert len(cells) == (5 * 13 + 3) * 4 == len(set(cells))  # damaged_copy: growth, engagement
    assert select_cells(["aggregate_growth"], ["late_arriving_data"], None, ["persisting"]) == [
        Cell("aggregate_growth", FailureKind.LATE_ARRIVING_DATA, "held_back", "persisting"),
        Cell("aggregate_growth", FailureKind.LATE_ARRIVING_DATA, "damaged_copy", "persisting"),
    ]
    assert not select_cells(["aggregate_profit"], None, ["damaged_copy"])  # no second copy
    assert variant_kind("portal_error") == FailureKind.REPORT_PUBLISHING


def test_the_shipped_expectations_follow_the_issue() -> None:
    expected = load_expectations()
    by_outcome: dict[Outcome, list[Cell]] = {}
    for cell in all_cells():
        by_outcome.setdefault(expected.expected(cell), []).append(cell)
    assert set(by_outcome) == {Outcome.RECOVERED, Outcome.FAILED_SAFE}
    damaged = {(c.variant, c.scenario) for c in by_outcome[Outcome.FAILED_SAFE]} - {
        (c.variant, "persisting") for c in by_outcome[Outcome.FAILED_SAFE]
    }
    assert damaged == {("damaged_copy", "arrives-later")}  # only persisting causes fail, and a
    # good copy put back after the restore met the damaged line (then `runbook retry`)
    assert all(expected.why(c) for c in by_outcome[Outcome.FAILED_SAFE])
    repaired_alone = {"column_added", "crash_mid_run", "missing_partition", "misaligned"}
    assert not [c for c in by_outcome[Outcome.FAILED_SAFE] if c.variant in repaired_alone]
    late = {c.pipeline for c in by_outcome[Outcome.FAILED_SAFE] if c.variant == "held_back"}
    assert late == {"aggregate_profit", "unit_profit_experiments"}  # no second copy of them


def test_outcomes_rank_recovered_over_failed_safe_over_wrong() -> None:
    assert Outcome.RECOVERED.rank > Outcome.FAILED_SAFE.rank > Outcome.WRONG.rank


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cells": {"unreachabel": {}}}, "cells.unreachabel: unknown fault variant"),
        ({"cells": {"unreachable": {"later": {}}}}, "unknown scenario"),
        ({"cells": {"unreachable": {"persisting": {"aggregate_prof": "FAILED-SAFE"}}}},
         "aggregate_prof: unknown pipeline"),
        ({"cells": {"unreachable": {"persisting": {"all": "WRONG"}}}},
         "WRONG is never an acceptable outcome"),
        ({"default": "FINE"}, "'FINE' is no outcome"),
    ],
)  # fmt: skip
def test_a_typo_in_the_expectations_is_an_error(data: dict, message: str) -> None:
    with pytest.raises(ExpectationsError, match=message):
        Expectations(data, "expectations.yaml")
