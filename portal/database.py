"""The portal's own database: tables, engine, the SQLite settings that make it safe, and its
migrations.

The portal keeps publications and idempotency keys in one database (SQLite
by default, any SQLAlchemy URL otherwise) so several workers and restarts share one truth.
Its schema is under Alembic (`migrations/`, version table `alembic_version_portal`):
`runbook portal serve` and `runbook portal migrate` upgrade it, and the app refuses to start
on a database that was not, saying which command to run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    event,
)

from foundation.engines import engine_for
from foundation.migrations import MigratedStore, require_current, upgrade

PORTAL_HEAD = "portal_0001"

PORTAL_STORE = MigratedStore(
    name="portal database",
    script_location=Path(__file__).resolve().parent / "migrations",
    version_table="alembic_version_portal",
    head=PORTAL_HEAD,
    lock_id=0x90A7A1,
    setup_command="runbook portal migrate",
    baseline="portal_0001",
    baseline_tables=("portal_publications", "portal_idempotency_keys"),
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite would drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

publications = Table(
    "portal_publications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("pipeline", String(128), nullable=False),
    Column("partition", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("rows", Integer),
    Column("content_type", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
    UniqueConstraint("pipeline", "partition", "kind", "version", name="uq_portal_pub_version"),
)
Index("ix_portal_pub_key", publications.c.pipeline, publications.c.partition, publications.c.kind)

idempotency_keys = Table(
    "portal_idempotency_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("publication_id", String(32), ForeignKey(publications.c.id), nullable=False),
    Column("pipeline", String(128), nullable=False),
    Column("partition", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


def _sqlite_portal_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN IMMEDIATE: writers queue on the busy timeout
    # instead of failing when two workers upgrade a read lock at once.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def portal_engine(url: str) -> Engine:
    """An engine for the portal database: the foundation's (WAL, busy timeout on SQLite), plus
    foreign keys and immediate write transactions on SQLite. Runs no DDL."""
    engine = engine_for(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_portal_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def upgrade_portal(engine: Engine) -> str | None:
    """Bring the portal's tables to the code's revision; safe from many workers at once."""
    return upgrade(PORTAL_STORE, engine)


def require_portal_schema(engine: Engine) -> None:
    """StoreNotReady (naming the command to run) unless the portal is at `PORTAL_HEAD`."""
    require_current(PORTAL_STORE, engine)


def utcnow() -> datetime:
    """Now, in UTC, at microsecond precision (what every backend stores)."""
    return datetime.now(UTC)
