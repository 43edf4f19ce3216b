"""The ledger's hold on its database: the engine (optionally pinned to a schema), the check
that the schema is migrated, and the one-row insert every writer uses; `LedgerPart`, what
each part of the ledger (incidents, steps, approvals, ...) is built on: that one database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance.ledger.migrate import require_ledger_schema
from governance.ledger.rows import new_id


class LedgerDatabase:
    """The audit ledger's database (SQLite or PostgreSQL), optionally in its own schema.

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

    def insert(self, table: sa.Table, row: Mapping[str, Any]) -> int:
        """Insert one row in its own transaction; its new id."""
        with self.engine.begin() as conn:
            return new_id(conn.execute(sa.insert(table).values(dict(row))))


@dataclass(frozen=True)
class LedgerPart:
    """One part of the ledger (its incidents, steps, approvals, ...) on the shared database."""

    db: LedgerDatabase

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def _insert(self, table: sa.Table, row: Mapping[str, Any]) -> int:
        return self.db.insert(table, row)
