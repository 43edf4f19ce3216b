"""The ledger's hold on its database: the engine (optionally pinned to a schema), the check
that the schema is migrated, and the one-row insert every writer uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance.ledger_migrations import require_ledger_schema
from governance.ledger_rows import new_id


class LedgerBase:
    """An audit ledger in one database (SQLite or PostgreSQL), optionally in its own schema.

    Opening runs no DDL: it checks the ledger's revision and, if the database was never
    migrated, raises `StoreNotReady` naming the command that sets it up.
    """

    def __init__(self, engine: Engine, schema: str | None = None, *, check: bool = True) -> None:
        if schema is None:  # an engine a ledger already pinned to a schema keeps it
            schema = (engine.get_execution_options().get("schema_translate_map") or {}).get(None)
        self.schema = schema
        self.engine = (
            engine.execution_options(schema_translate_map={None: schema}) if schema else engine
        )
        if check:
            require_ledger_schema(engine, schema)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    def _insert(self, table: sa.Table, row: Mapping[str, Any]) -> int:
        with self.engine.begin() as conn:
            return new_id(conn.execute(sa.insert(table).values(dict(row))))
