"""The sample-warehouse fixtures that the warehouse, fault and step-type tests share.

A conftest imports the ones it needs; each is defined once, here. The fault layer is
installed for the session, as `RUNBOOK_FAULTS=on` would install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

import faults
from tests.warehouse import sample
from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.pipelines import Pipeline, resolve


@pytest.fixture(scope="session", autouse=True)
def fault_layer() -> Iterator[None]:
    with faults.enabled():
        yield


@pytest.fixture(scope="session")
def data_dir(request: pytest.FixtureRequest) -> Path:
    """The session's data folder (activity logs, backups, outputs)."""
    return sample.data_dir(request)


@pytest.fixture(scope="session", params=sample.backend_params())
def engine(request: pytest.FixtureRequest, data_dir: Path) -> Engine:
    """A warehouse with `small` sample data, on each backend the session tests."""
    return sample.engine(request, request.param, data_dir)


@pytest.fixture
def platform(engine: Engine, data_dir: Path) -> Platform:
    """The sample warehouse with the session's config (stores and outputs in `data_dir`)."""
    return sample.platform_of(engine, data_dir)


@pytest.fixture
def clean(platform: Platform) -> Iterator[Platform]:
    """The sample warehouse, with every injected fault undone after the test."""
    yield platform
    faults.clear_faults(platform, data=True)


def at(platform: Platform, pipeline: str, partition: str) -> tuple[Pipeline, Partition]:
    """`pipeline` and its `partition` key parsed in the platform's calendar, as the warehouse
    functions take them (a step parses its params the same way)."""
    return resolve(pipeline, partition, platform.config.fiscal_calendar)
