"""Fixtures: the shared sample warehouse (SQLite and PostgreSQL) and a run's services on it.

Step types get everything through `ctx.services`; here those services point at the sample
warehouse of `tests.warehouse.sample`, and the fault layer is installed for the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

import faults
from foundation.settings import get_settings, temporary_settings
from recovery_tasks.context import StepContext
from recovery_tasks.services import RunServices
from tests.warehouse import sample
from warehouse.db import Platform


@pytest.fixture(scope="session", autouse=True)
def fault_layer() -> Iterator[None]:
    with faults.enabled():
        yield


@pytest.fixture(scope="session")
def data_dir(request: pytest.FixtureRequest) -> Path:
    return sample.data_dir(request)


@pytest.fixture(scope="session", params=sample.backend_params())
def engine(request: pytest.FixtureRequest, data_dir: Path) -> Engine:
    return sample.engine(request, request.param, data_dir)


@pytest.fixture
def clean(engine: Engine, data_dir: Path) -> Iterator[Platform]:
    """The sample warehouse, with every injected fault undone after the test."""
    platform = sample.platform_of(engine, data_dir)
    yield platform
    faults.clear_faults(platform, data=True)


@pytest.fixture
def services(clean: Platform, engine: Engine, data_dir: Path) -> Iterator[RunServices]:
    """A run's services whose platform is the sample warehouse (the ledger is the session's)."""
    updates: dict[str, Any] = {"data_dir": data_dir, "audit_url": get_settings().audit_url()}
    if engine.dialect.name == "sqlite":
        updates["warehouse_url"] = engine.url.render_as_string()
    else:
        updates["warehouse_url"] = sample.PG_URL
        updates["warehouse_schema"] = f"wh_test_{os.getpid()}"
    with temporary_settings(**updates) as settings, RunServices.open(settings) as run:
        yield run


def step_ctx(
    services: RunServices, pipeline: str, *, sla_left: timedelta = timedelta(hours=4), **kw: Any
) -> StepContext:
    """A step's context with an incident whose SLA has `sla_left` to go."""
    deadline = datetime.now(UTC) + sla_left
    incident = {"id": None, "deadline": deadline.isoformat(), "kind": kw.pop("kind", "manual")}
    return StepContext(
        runbook=pipeline.replace("_", "-"), pipeline=pipeline, step_id=kw.pop("step_id", "step"),
        incident=incident, services=services, **kw,
    )  # fmt: skip
