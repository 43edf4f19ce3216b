"""Small sample data, generated once per backend per test session and shared by test folders.

`tests/warehouse` and `tests/faults` both need the generated warehouse; pytest would build a
session fixture once per conftest that declares it, so the fixtures delegate here, where each
backend's data is generated on first use and cleaned up when pytest ends. Backends come from
RUNBOOK_TEST_DATABASES (default `sqlite,postgres`); PostgreSQL runs in a schema of its own
(`wh_test_<pid>`), dropped at the end, so concurrent sessions don't collide.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from foundation.settings import AppSettings, get_settings
from warehouse.config import WarehouseConfig
from warehouse.db import Platform, engine_for
from warehouse.generate import generate
from warehouse.schema import drop_schema

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

_data_dir: list[Path] = []
_engines: dict[str, Engine] = {}


def backend_params() -> list:
    """The `engine` fixture's params: each backend, PostgreSQL marked `postgres`."""
    return [
        pytest.param(b, marks=[pytest.mark.postgres] if b == "postgres" else []) for b in BACKENDS
    ]


def data_dir(request: pytest.FixtureRequest) -> Path:
    """The session's data folder for the sample (activity logs, backups, outputs).

    Handed to the sample's platforms through their config, not pushed as a process-wide
    setting, so tests elsewhere see the settings they expect.
    """
    if not _data_dir:
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        _data_dir.append(factory.mktemp("runbook-data"))
    return _data_dir[0]


def settings_of(folder: Path) -> AppSettings:
    """The process's settings with the sample's data folder (for code that reads settings)."""
    return get_settings().with_updates(data_dir=folder)


def engine(request: pytest.FixtureRequest, backend: str, folder: Path) -> Engine:
    """The warehouse of `backend` with `small` sample data (generated on first use)."""
    if backend in _engines:
        return _engines[backend]
    schema = None
    if backend == "sqlite":
        eng = engine_for(f"sqlite:///{folder / 'warehouse.db'}")
    else:
        schema = f"wh_test_{os.getpid()}"
        try:
            eng = engine_for(PG_URL, schema)
        except Exception as exc:
            pytest.skip(f"PostgreSQL not reachable: {exc}")
    generate(platform_of(eng, folder), "small", seed=7)
    _engines[backend] = eng
    request.config.add_cleanup(lambda: _close(eng, schema))
    return eng


def platform_of(engine: Engine, folder: Path) -> Platform:
    """A platform on `engine` whose stores and outputs live in the sample's data folder."""
    return Platform(engine, config=WarehouseConfig.from_settings(settings_of(folder)))


def _close(eng: Engine, schema: str | None) -> None:
    if schema:
        drop_schema(eng, schema)
    eng.dispose()
