"""The warehouse takes its calendar, thresholds and stores from the platform it is handed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from tests.warehouse.fixtures import at
from warehouse.config import StoreNotConfiguredError, WarehouseConfig
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.outputs import write_outputs
from warehouse.runner import run_pipeline
from warehouse.transform import run_transform


def test_the_fiscal_calendar_comes_from_the_platform(clean: Platform) -> None:
    four_four_five = Platform(clean.warehouse, config=replace(clean.config, fiscal_calendar="445"))
    try:
        run_transform(four_four_five, *at(four_four_five, "aggregate_profit", "2026-03"))
        with clean.warehouse.connect() as conn:
            start = conn.execute(
                text("SELECT MIN(period_start) FROM profit_monthly WHERE partition_key = '2026-03'")
            ).scalar_one()
        assert str(start)[:10] == "2026-02-23"  # 4-4-5: March starts after 8 weeks
    finally:
        run_pipeline(clean, "aggregate_profit", "2026-03")


def test_thresholds_come_from_the_platform(clean: Platform) -> None:
    strict = Platform(clean.warehouse, config=replace(clean.config, margin_max=0.01))
    with pytest.raises(PipelineFailure, match="margin_thresholds"):
        run_pipeline(strict, "aggregate_profit", "2026-03")
    run_pipeline(clean, "aggregate_profit", "2026-03")


def test_a_platform_without_stores_says_which_one_is_missing(clean: Platform) -> None:
    run_pipeline(clean, "aggregate_profit", "2026-03")
    bare = Platform.of(clean.warehouse)
    assert bare.config == WarehouseConfig()
    with pytest.raises(StoreNotConfiguredError, match="no output folder configured"):
        write_outputs(bare, *at(bare, "aggregate_profit", "2026-03"))
