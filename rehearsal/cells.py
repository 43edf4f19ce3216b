"""The rehearsal matrix: every pipeline, every fault variant, every scenario.

A cell is one game-day exercise: the fault, where it strikes (the pipeline and one of its
partitions) and what happens to its cause while the runbook runs (`fixed` before, still
there when it `persists`, or it `arrives-later`: gone a few seconds into the run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faults.catalog import VARIANTS
from warehouse.failures import FailureKind
from warehouse.pipelines import registry

Scenario = Literal["fixed", "persisting", "arrives-later"]
SCENARIOS: tuple[Scenario, ...] = ("fixed", "persisting", "arrives-later")

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


def all_cells() -> list[Cell]:
    """The whole matrix, pipeline by pipeline, in the catalog's order."""
    return [
        Cell(pipeline, kind, variant, scenario)
        for pipeline in registry
        for kind, variants in VARIANTS.items()
        for variant in variants
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

    The declared subset CI plays (39 cells instead of 195): all fault variants and scenarios
    are covered, and every pipeline appears; another `offset` picks other pipelines.
    """
    pipelines = list(registry)
    combos = [
        (kind, variant, scenario)
        for kind, variants in VARIANTS.items()
        for variant in variants
        for scenario in SCENARIOS
    ]
    return [
        Cell(pipelines[(i + offset) % len(pipelines)], kind, variant, scenario)
        for i, (kind, variant, scenario) in enumerate(combos)
    ]
