"""Alembic for every store: its own script folder and version table, upgraded on purpose.

The warehouse, the audit ledger and the portal may share one database, so each store keeps
its revision in a version table of its own (`alembic_version_ledger`, ...). Nothing creates
tables at run time: the commands that set things up call `upgrade`, and opening a store calls
`require_current`, which costs one query and, when the database is not at the revision the
code expects, says which command sets it up.

`upgrade` runs in one transaction that first takes a lock, `pg_advisory_xact_lock` on
PostgreSQL and `BEGIN IMMEDIATE` on SQLite (a second writer waits on the busy timeout), and
reads the revision under it, so processes that start together migrate once. A store created
before it had migrations (today's `metadata.create_all`) is adopted: when all its baseline
tables exist without a version table, it is stamped at the baseline and then upgraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from foundation.errors import RecoveryError, TerminalError


class StoreNotReady(RecoveryError, TerminalError):
    """A store's database is not at the schema revision this code needs; says what to run."""


@dataclass(frozen=True)
class MigratedStore:
    """One store's migrations: where they live, where its revision is kept, how to set it up."""

    name: str  # as users call it: "audit ledger", "portal database"
    script_location: Path  # the Alembic folder (env.py, versions/)
    version_table: str
    head: str  # the revision this code reads and writes; a test keeps it equal to the scripts'
    lock_id: int  # PostgreSQL advisory lock serialising upgrades of this store
    setup_command: str  # what a user runs to upgrade it, e.g. "runbook data migrate"
    baseline: str  # the revision whose schema equals the tables created before migrations
    baseline_tables: tuple[str, ...]


def upgrade(
    store: MigratedStore, engine: Engine, schema: str | None = None, revision: str = "head"
) -> str | None:
    """Bring the store to `revision` (adopting a pre-migration store); return where it is now.

    On PostgreSQL `schema` (created if missing) holds the tables and the version table.
    """
    from alembic import command

    with _locked(engine, store.lock_id) as conn:
        if schema:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.execute(sa.text(f'SET LOCAL search_path TO "{schema}"'))
        config = _alembic_config(store, conn, schema)
        if _revision(conn, store, schema) is None and _adoptable(conn, store, schema):
            command.stamp(config, store.baseline)
        command.upgrade(config, revision)
        return _revision(conn, store, schema)


def current_revision(store: MigratedStore, engine: Engine, schema: str | None = None) -> str | None:
    """The store's revision, or None when it has no version table."""
    with engine.connect() as conn:
        return _revision(conn, store, schema)


def require_current(store: MigratedStore, engine: Engine, schema: str | None = None) -> None:
    """Raise StoreNotReady unless the store is at `store.head`, saying which command to run."""
    with engine.connect() as conn:
        revision = _revision(conn, store, schema)
        if revision == store.head:
            return
        adoptable = revision is None and _adoptable(conn, store, schema)
    where = f"The {store.name} at {_display(engine, schema)}"
    run = f"run `{store.setup_command}`"
    if adoptable:
        message = f"{where} was created before it had migrations: {run} to adopt and upgrade it"
    elif revision is None:
        message = f"{where} has no schema yet (no {store.version_table} table): {run} first"
    elif _known(store, revision):
        message = f"{where} is at revision {revision}, this code needs {store.head}: {run}"
    else:
        message = (
            f"{where} is at revision {revision}, which this code does not know (newer code "
            f"migrated it); this code needs {store.head}: run the newer code or another database"
        )
    raise StoreNotReady(message)


def script_head(store: MigratedStore) -> str | None:
    """The head revision of the store's migration scripts (what `store.head` must equal)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(store.script_location)).get_current_head()


def run_migrations(context: Any) -> None:
    """The body of every store's `env.py`: migrate on the connection `upgrade` hands over."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "these migrations run through foundation.migrations.upgrade (the project's set-up "
            "commands), which hands Alembic a locked connection"
        )
    context.configure(
        connection=connection,
        version_table=config.attributes["version_table"],
        version_table_schema=config.attributes.get("schema"),
        target_metadata=config.attributes.get("target_metadata"),
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _locked(engine: Engine, lock_id: int) -> Iterator[Connection]:
    """A connection in a transaction that holds the store's upgrade lock; commits on success."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))
                yield conn
            return
        # pysqlite opens transactions lazily and never before DDL; take the write lock first.
        raw = conn.connection.driver_connection
        saved = raw.isolation_level  # type: ignore[union-attr]
        raw.isolation_level = None  # type: ignore[union-attr]
        try:
            conn.begin()
            if not raw.in_transaction:  # type: ignore[union-attr]  # (an engine may BEGIN itself)
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn
            conn.commit()
        finally:
            if conn.in_transaction():
                conn.rollback()
            raw.isolation_level = saved  # type: ignore[union-attr]


def _alembic_config(store: MigratedStore, conn: Connection, schema: str | None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(store.script_location))
    config.attributes.update(connection=conn, version_table=store.version_table, schema=schema)
    return config


def _revision(conn: Connection, store: MigratedStore, schema: str | None) -> str | None:
    if not sa.inspect(conn).has_table(store.version_table, schema=schema):
        return None
    table = sa.table(store.version_table, sa.column("version_num"), schema=schema)
    heads = sorted(conn.execute(sa.select(table.c.version_num)).scalars())
    return ",".join(heads) or None


def _adoptable(conn: Connection, store: MigratedStore, schema: str | None) -> bool:
    """All baseline tables exist (created by `create_all` before migrations); some is an error."""
    inspector = sa.inspect(conn)
    present = [t for t in store.baseline_tables if inspector.has_table(t, schema=schema)]
    if present and len(present) < len(store.baseline_tables):
        missing = sorted(set(store.baseline_tables) - set(present))
        raise StoreNotReady(
            f"The {store.name} has some of its tables but not {', '.join(missing)} and no "
            f"{store.version_table} table: it was not created by this project; point it at an "
            "empty database or finish the copy"
        )
    return bool(present)


def _known(store: MigratedStore, revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory(str(store.script_location))
    try:
        return all(scripts.get_revision(r) is not None for r in revision.split(","))
    except CommandError:
        return False


def _display(engine: Engine, schema: str | None) -> str:
    url = engine.url.render_as_string(hide_password=True)
    return f"{url} (schema {schema})" if schema else url
