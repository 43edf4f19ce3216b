"""Engines for the warehouse and its sources, with the settings each backend needs.

SQLite gets WAL and a busy timeout so a pipeline and a reader can share the file; PostgreSQL
can be pinned to one schema (its `search_path`), which is how tests and tenants stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from warehouse.settings import Settings, get_settings

SOURCES = ("transactions", "registrations", "events")
"""The source systems: transaction DB, user registration DB, app event stream."""


def engine_for(url: str, schema: str | None = None) -> Engine:
    """An engine for `url`; on PostgreSQL `schema` (created if missing) becomes the search path."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        with create_engine(url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-200000")
    cur.close()


@dataclass
class Platform:
    """The warehouse engine plus one engine per source system (often the same engine).

    Transforms run in the warehouse; a source living in another database is mirrored into
    the warehouse (its partition only) before the transform reads it.
    """

    warehouse: Engine
    sources: dict[str, Engine] = field(default_factory=dict)

    def source(self, name: str) -> Engine:
        """The engine of source system `name` (the warehouse unless configured apart)."""
        return self.sources.get(name, self.warehouse)

    def is_colocated(self, name: str) -> bool:
        """Whether source `name` lives in the warehouse database itself."""
        return self.source(name) is self.warehouse

    @classmethod
    def of(cls, engine_or_platform: Engine | Platform) -> Platform:
        """Accept either an engine (everything in one database) or a platform."""
        if isinstance(engine_or_platform, Platform):
            return engine_or_platform
        return cls(warehouse=engine_or_platform)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Platform:
        """Engines for the configured URLs; sources sharing the warehouse URL share its engine."""
        settings = settings or get_settings()
        wh_url = settings.resolved_warehouse_url()
        warehouse = engine_for(wh_url, settings.warehouse_schema)
        sources = {
            name: engine_for(settings.source_url(name), settings.warehouse_schema)
            for name in SOURCES
            if settings.source_url(name) != wh_url
        }
        return cls(warehouse=warehouse, sources=sources)


def dialect(engine: Engine) -> str:
    """`sqlite` or `postgresql`."""
    return engine.dialect.name
