"""The five pipelines: `registry` maps a name to its `Pipeline` definition."""

from __future__ import annotations

from foundation.errors import RecoveryError, TerminalError
from warehouse.calendar import FiscalCalendar, Partition, parse_partition
from warehouse.pipelines.base import Check, CheckContext, Measure, Pipeline, Step
from warehouse.pipelines.engagement import aggregate_engagement
from warehouse.pipelines.growth import aggregate_growth, daily_growth_experiments
from warehouse.pipelines.profit import aggregate_profit, unit_profit_experiments

registry: dict[str, Pipeline] = {
    p.name: p
    for p in (
        unit_profit_experiments,
        aggregate_profit,
        aggregate_growth,
        daily_growth_experiments,
        aggregate_engagement,
    )
}


class UnknownPipelineError(RecoveryError, TerminalError, KeyError):
    """A pipeline name that is not in the registry."""


def get_pipeline(name: str | Pipeline) -> Pipeline:
    """The pipeline called `name` (hyphens accepted); an unknown name lists the valid ones."""
    if isinstance(name, Pipeline):
        return name
    try:
        return registry[name.replace("-", "_")]
    except KeyError:
        raise UnknownPipelineError(
            f"unknown pipeline {name!r}; known: {', '.join(registry)}"
        ) from None


def resolve(
    pipeline: str | Pipeline, partition: str, calendar: FiscalCalendar
) -> tuple[Pipeline, Partition]:
    """The pipeline definition and the partition key parsed at its grain in `calendar`: the
    one parse of a key, at the edge (a step's params, a command's argument); warehouse
    functions take the values.

    The calendar is required (callers pass `platform.config.fiscal_calendar`): a default
    would silently read a 4-4-5 fiscal month as a calendar month.
    """
    pipe = get_pipeline(pipeline)
    return pipe, parse_partition(pipe.grain, partition, calendar)


__all__ = [
    "Check",
    "CheckContext",
    "Measure",
    "Pipeline",
    "Step",
    "get_pipeline",
    "registry",
    "resolve",
]
