"""Alembic environment: migrates the warehouse tables in `warehouse.tables`."""

from __future__ import annotations

from alembic import context
from foundation.engines import engine_for
from foundation.settings import get_settings
from warehouse.tables import warehouse_metadata

config = context.config


def run() -> None:
    """Run migrations on the passed connection, or on the configured warehouse."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=warehouse_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    settings = get_settings()
    engine = engine_for(settings.warehouse_url(), settings.warehouse.warehouse_schema)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=warehouse_metadata)
        with context.begin_transaction():
            context.run_migrations()


run()
