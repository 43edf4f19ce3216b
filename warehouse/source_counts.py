"""A pipeline's measure counted in its source and in the warehouse, for one partition.

The run book's "validate against source DB counts": `checks.source_counts` and the counts
bench call it; a mismatch is evidence, the checks decide what it means.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.calendar import Partition
from warehouse.contract import mapped_sources
from warehouse.db import Platform
from warehouse.pipelines import Pipeline
from warehouse.sql import bound, partition_params


@dataclass(frozen=True)
class SourceCounts:
    """A pipeline's measure in the source and in the warehouse, for one partition."""

    pipeline: str
    partition: str
    measure: str
    source: int
    warehouse: int

    @property
    def matches(self) -> bool:
        """Whether the warehouse agrees with the source."""
        return self.source == self.warehouse


def source_counts(platform: Platform, pipe: Pipeline, part: Partition) -> SourceCounts:
    """Validate the warehouse against source DB counts (the measure of the pipeline)."""
    params = partition_params(part)
    with platform.source(pipe.sources[0]).connect() as conn, mapped_sources(conn, pipe):
        src = conn.execute(bound(pipe.measure.source_sql), params).scalar_one()
    with platform.warehouse.connect() as conn:
        wh = conn.execute(bound(pipe.measure.warehouse_sql), params).scalar_one()
    return SourceCounts(pipe.name, part.key, pipe.measure.name, int(src), int(wh))
