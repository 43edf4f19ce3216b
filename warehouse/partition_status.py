"""The states a partition moves through in `partition_runs`, without the SQL that reads them.

Kept apart from `partition_state` (which reads and writes the table) so that check
definitions and the documentation drawn from them load without a database library.
"""

from __future__ import annotations

from enum import StrEnum


class PartitionStatus(StrEnum):
    """The states of a partition in `partition_runs`."""

    RUNNING = "running"
    UNCHECKED = "unchecked"
    COMPLETE = "complete"
    QUARANTINED = "quarantined"


WRITTEN = frozenset(
    {PartitionStatus.UNCHECKED, PartitionStatus.COMPLETE, PartitionStatus.QUARANTINED}
)
"""States in which the last write finished (the partition is whole, right or wrong)."""
