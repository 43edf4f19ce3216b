"""Fixtures: the shared small sample warehouse on SQLite and PostgreSQL (`tests.warehouse.sample`).

These tests inject faults to see how the warehouse's checks, partition states and backfills
respond to them; the fixtures live in `tests.warehouse.fixtures`.
"""

from tests.warehouse.fixtures import (  # noqa: F401  (shared fixtures)
    clean,
    data_dir,
    engine,
    fault_layer,
    platform,
)
