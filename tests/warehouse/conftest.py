"""Fixtures: small sample data generated once per backend, on SQLite and PostgreSQL.

Backends come from RUNBOOK_TEST_DATABASES (default `sqlite,postgres`); PostgreSQL runs in a
schema of its own (`wh_test_<pid>`), dropped at the end, so concurrent sessions don't collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

PG_URL = os.environ.get(
    "RUNBOOK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    b.strip()
    for b in os.environ.get("RUNBOOK_TEST_DATABASES", "sqlite,postgres").split(",")
    if b.strip()
]
PARTITIONS = {
    "unit_profit_experiments": "2026-03-14",
    "aggregate_profit": "2026-03",
    "aggregate_growth": "2026-W11",
    "daily_growth_experiments": "2026-03-14",
    "aggregate_engagement": "2026-03",
}
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder for the session (activity logs, backups, outputs)."""
    from foundation.settings import temporary_settings

    path = tmp_path_factory.mktemp("runbook-data")
    with temporary_settings(data_dir=path):
        yield path


@pytest.fixture(
    scope="session",
    params=[
        pytest.param(b, marks=[pytest.mark.postgres] if b == "postgres" else []) for b in BACKENDS
    ],
)
def engine(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Engine]:
    """A warehouse with `small` sample data and every pipeline's golden partition run."""
    from warehouse.db import engine_for
    from warehouse.generate import generate
    from warehouse.schema import drop_schema

    schema = None
    if request.param == "sqlite":
        eng = engine_for(f"sqlite:///{data_dir / 'warehouse.db'}")
    else:
        schema = f"wh_test_{os.getpid()}"
        try:
            eng = engine_for(PG_URL, schema)
        except Exception as exc:
            pytest.skip(f"PostgreSQL not reachable: {exc}")
    generate(eng, "small", seed=7)
    yield eng
    if schema:
        drop_schema(eng, schema)
    eng.dispose()


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    """The session warehouse, with every injected fault undone after the test."""
    from warehouse.faults import clear_faults

    yield engine
    clear_faults(engine, data=True)
