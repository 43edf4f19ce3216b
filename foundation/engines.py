"""Database engines with the settings each backend needs, created once per URL and disposed.

SQLite gets WAL and a busy timeout so a pipeline, the ledger and a reader can share one file;
PostgreSQL can be pinned to one schema (its `search_path`), which is how tests and tenants
stay apart. Every store (warehouse, audit ledger, portal) opens its engines here.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url


def engine_for(url: str, schema: str | None = None) -> Engine:
    """An engine for `url`; on PostgreSQL `schema` (created if missing) becomes the search path."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        _create_schema(url, schema)
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _create_schema(url: str, schema: str) -> None:
    """CREATE SCHEMA IF NOT EXISTS, safe when several processes do it at once.

    PostgreSQL's IF NOT EXISTS still races on the catalog's unique index; a transaction-level
    advisory lock keyed by the schema name makes the creators take turns.
    """
    bootstrap = create_engine(url)
    try:
        with bootstrap.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": schema})
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        bootstrap.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-200000")
    cur.close()


class EngineCache:
    """One engine per (URL, schema) for the lifetime of a run or a command; `close` disposes."""

    def __init__(self) -> None:
        self._engines: dict[tuple[str, str | None], Engine] = {}
        self._lock = threading.Lock()

    def get(self, url: str, schema: str | None = None) -> Engine:
        """The engine for `url` (and `schema`), created on first use."""
        key = (url, schema)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = engine_for(url, schema)
            return engine

    def close(self) -> None:
        """Dispose every engine (close pooled connections)."""
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()

    def __enter__(self) -> EngineCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
