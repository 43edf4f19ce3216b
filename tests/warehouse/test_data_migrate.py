"""`runbook data migrate` on warehouses as operators have them: generated, or made before
migrations existed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from foundation.engines import engine_for
from foundation.settings import temporary_settings
from runbook_cli.main import app
from warehouse.schema import create_warehouse


def _runbook(data_dir: Path, *args: str) -> str:
    """`runbook ARGS` with every store in `data_dir`, as a fresh data folder has them."""
    with temporary_settings(
        data_dir=data_dir,
        warehouse_url=f"sqlite:///{data_dir / 'warehouse.db'}",
        audit_url=f"sqlite:///{data_dir / 'audit.db'}",
    ):
        result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _revision(data_dir: Path) -> str:
    engine = engine_for(f"sqlite:///{data_dir / 'warehouse.db'}")
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


def test_migrate_after_data_generate_succeeds(tmp_path: Path) -> None:
    _runbook(tmp_path, "data", "generate")

    assert "warehouse at head" in _runbook(tmp_path, "data", "migrate")
    assert _revision(tmp_path) == "0004"


def test_migrate_adopts_a_warehouse_made_without_migrations(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'warehouse.db'}")
    create_warehouse(engine)  # as `runbook data generate` made warehouses before
    engine.dispose()

    _runbook(tmp_path, "data", "migrate")
    _runbook(tmp_path, "data", "migrate")

    assert _revision(tmp_path) == "0004"
