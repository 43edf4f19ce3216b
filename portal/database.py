"""The portal's own database: tables, engine and the SQLite settings that make it safe.

The portal keeps publications, idempotency keys and the fault plan in one database (SQLite
by default, any SQLAlchemy URL otherwise) so several workers and restarts share one truth.
The schema is small and append-only, so it is created on start rather than migrated.
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
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url


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

faults = Table(
    "portal_faults",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", Text, nullable=False),
    Column("target", String(16), nullable=False),
    Column("remaining", Integer),  # NULL: until cleared
    Column("fired", Integer, nullable=False, default=0),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN IMMEDIATE: writers queue on the busy timeout
    # instead of failing when two workers upgrade a read lock at once.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_portal_engine(url: str) -> Engine:
    """An engine for the portal database with its tables created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


def utcnow() -> datetime:
    """Now, in UTC, at microsecond precision (what every backend stores)."""
    return datetime.now(UTC)
