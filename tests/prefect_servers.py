"""Real Prefect servers for tests, each in a PostgreSQL database of its own.

One admin URL for the suite; a server's database is created fresh when the server starts and
dropped when it stops, so two test runs on one machine (or a rerun after a crash) never share
state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from testing.prefect_server import LocalServer, local_prefect_server, reset_postgres_database

ADMIN_URL = os.environ.get(
    "RUNBOOK_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def postgres_prefect_server(name: str, **options: Any) -> Iterator[LocalServer]:
    """`prefect server start` on database `name` (made fresh), dropped again at the end."""
    database = f"{name}_{os.getpid()}"
    url = reset_postgres_database(ADMIN_URL, database, for_prefect=True)
    try:
        with local_prefect_server(url, **options) as server:
            yield server
    finally:
        drop_database(database)


def drop_database(name: str) -> None:
    """Drop database `name`, closing whatever still holds it."""
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def postgres_reachable() -> bool:
    """Whether the suite's PostgreSQL answers."""
    engine = sa.create_engine(ADMIN_URL)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()
