"""Fixtures: the shared sample warehouse (SQLite and PostgreSQL) and a run's services on it.

Step types get everything through `ctx.services`; here those services point at the sample
warehouse (`tests.warehouse.fixtures`), and the fault layer is installed for the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foundation.settings import get_settings, temporary_settings
from recovery_tasks.context import StepContext
from recovery_tasks.services import RunServices
from tests.warehouse import sample
from tests.warehouse.fixtures import (  # noqa: F401  (shared fixtures)
    clean,
    data_dir,
    engine,
    fault_layer,
    platform,
)
from warehouse.db import Platform


@pytest.fixture
def services(
    clean: Platform,  # noqa: F811
    engine: Engine,  # noqa: F811
    data_dir: Path,  # noqa: F811
) -> Iterator[RunServices]:
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
