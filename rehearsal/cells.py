"""The rehearsal matrix: every pipeline, every fault variant, every scenario.

A cell is one game-day exercise: the fault, where it strikes (the pipeline and one of its
partitions) and what happens to its cause while the runbook runs (`fixed` before, still
there when it `persists`, or it `arrives-later`: gone a few seconds into the run). The
`first-publication` scenario fixes the cause too, but nothing was written or published for
the partition before the failure: the runbook's outputs must stand on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faults.catalog import VARIANTS, applies
from warehouse.failures import FailureKind
from warehouse.pipelines import get_pipeline, registry

Scenario = Literal["fixed", "persisting", "arrives-later", "first-publication"]
_SETTLED: tuple[Scenario, ...] = ("fixed", "persisting")  # how a damaged copy can end
SCENARIOS: tuple[Scenario, ...] = ("fixed", "persisting", "arrives-later", "first-publication")
CAUSE_SCENARIOS: tuple[Scenario, ...] = SCENARIOS[:3]
"""The scenarios of what happens to the cause (the fourth is about what existed before)."""

PARTITIONS: dict[str, str] = {
    "unit_profit_experiments": "2026-03-14",
    "aggregate_profit": "2026-03",
    "aggregate_growth": "2026-W11",
    "daily_growth_experiments": "2026-03-14",
    "aggregate_engagement": "2026-03",
}
"""The partition each pipeline is rehearsed on (inside the sample data's range)."""


@dataclass(frozen=True)
class Cell:
    """One exercise: a fault of `kind`/`variant` in `pipeline`, and its cause's `scenario`."""

    pipeline: str
    kind: FailureKind
    variant: str
    scenario: Scenario

    @property
    def partition(self) -> str:
        """The partition the fault strikes."""
        return PARTITIONS[self.pipeline]

    @property
    def label(self) -> str:
        """`aggregate_profit unreachable persisting`."""
        return f"{self.pipeline} {self.variant} {self.scenario}"


def variant_kind(variant: str) -> FailureKind:
    """The failure kind a variant belongs to."""
    for kind, variants in VARIANTS.items():
        if variant in variants:
            return kind
    known = ", ".join(v for vs in VARIANTS.values() for v in vs)
    raise ValueError(f"unknown fault variant {variant!r}; known: {known}")


def strikes(variant: str, pipeline: str) -> bool:
    """Whether the variant can strike the pipeline (a damaged copy needs a second copy)."""
    return applies(variant, get_pipeline(pipeline).primary_table)


def all_cells() -> list[Cell]:
    """The whole matrix, pipeline by pipeline, in the catalog's order."""
    return [
        Cell(pipeline, kind, variant, scenario)
        for pipeline in registry
        for kind, variants in VARIANTS.items()
        for variant in variants
        if strikes(variant, pipeline)
        for scenario in SCENARIOS
    ]


def select_cells(
    pipelines: list[str] | None = None,
    kinds: list[str] | None = None,
    variants: list[str] | None = None,
    scenarios: list[str] | None = None,
) -> list[Cell]:
    """The cells matching every filter given (None or empty: no filter)."""
    return [
        c
        for c in all_cells()
        if (not pipelines or c.pipeline in pipelines)
        and (not kinds or c.kind in kinds)
        and (not variants or c.variant in variants)
        and (not scenarios or c.scenario in scenarios)
    ]


def rotated_cells(offset: int = 0) -> list[Cell]:
    """Every variant in every scenario once, the pipeline rotating so each gets its share.

    The declared subset CI plays (46 cells instead of 272): every variant striking every
    pipeline in each cause scenario once, the damaged copy in two of them, and a first
    publication of each pipeline; another `offset` picks other pipelines.
    """
    pipelines = list(registry)
    combos = [
        (kind, variant, scenario)
        for kind, variants in VARIANTS.items()
        for variant in variants
        if variant != "damaged_copy"
        for scenario in CAUSE_SCENARIOS
    ]
    cells = [
        Cell(pipelines[(i + offset) % len(pipelines)], kind, variant, scenario)
        for i, (kind, variant, scenario) in enumerate(combos)
    ]
    copies = [p for p in pipelines if strikes("damaged_copy", p)]
    late = variant_kind("damaged_copy")
    cells += [
        Cell(copies[(i + offset) % len(copies)], late, "damaged_copy", scenario)
        for i, scenario in enumerate(_SETTLED)
    ]
    firsts = [("held_back", "late_arriving_data"), ("null_critical", "data_quality"),
              ("transform_error", "etl_job_failure"), ("damaged_copy", "late_arriving_data"),
              ("portal_error", "report_publishing")]  # fmt: skip
    for i, pipeline in enumerate(pipelines):
        variant, kind = firsts[(i + offset) % len(firsts)]
        if strikes(variant, pipeline):
            cells.append(Cell(pipeline, FailureKind(kind), variant, "first-publication"))
    return cells
