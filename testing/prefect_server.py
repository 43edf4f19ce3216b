"""Start a real Prefect server in a subprocess, for benchmarks, browser and end-to-end tests.

`prefect_test_harness` runs on SQLite, whose write lock makes flow runs stall for seconds
now and then under load; measurements and the UI tests use this server instead, backed by
PostgreSQL when a URL is given (Prefect's own recommendation for anything beyond a laptop).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from testing.service_guard import refuse_in_unmarked_test

if TYPE_CHECKING:
    from sqlalchemy import URL, Connection

FILE_LEASES = "prefect.server.concurrency.lease_storage.filesystem"


@dataclass(frozen=True)
class LocalServer:
    """A running server: its API URL (for clients) and UI URL (for browsers)."""

    api_url: str
    ui_url: str
    home: Path
    log: Path
    pid: int = 0  # the server process (leader of its own session)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_postgres_database(admin_url: str, name: str, *, for_prefect: bool = False) -> str:
    """Drop and create database `name` (empty); return its asyncpg URL.

    `for_prefect`: a database for a Prefect server, made as a copy of one Prefect's migrations
    already ran on (one per Prefect version, made once per machine), so the server starts
    without migrating. Never for the project's own stores: Prefect's `alembic_version` would
    stand in for theirs.
    """
    import sqlalchemy as sa

    refuse_in_unmarked_test(f"PostgreSQL database {name}")

    template = migrated_template(admin_url) if for_prefect else None
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            _recreate_database(conn, name, template)
    finally:
        engine.dispose()
    return _asyncpg_url(engine.url, name)


def migrated_template(admin_url: str) -> str:
    """The name of a database holding Prefect's schema at this Prefect version, made if missing.

    Made under an advisory lock, so parallel test workers make it once; marked complete (a
    comment on the database) only after the migrations ran, so an interrupted one is made again.
    """
    import prefect
    import sqlalchemy as sa

    name = "runbook_prefect_template_" + prefect.__version__.replace(".", "_").replace("+", "_")
    done = f"prefect {prefect.__version__} migrated"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": name})
            try:
                mark = conn.execute(
                    sa.text(
                        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = :name"
                    ),
                    {"name": name},
                ).scalar()
                if mark != done:
                    _recreate_database(conn, name, None)
                    _migrate(_asyncpg_url(engine.url, name))
                    conn.execute(sa.text(f"COMMENT ON DATABASE \"{name}\" IS '{done}'"))
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
    finally:
        engine.dispose()
    return name


def _migrate(database_url: str) -> None:
    """Run Prefect's migrations on `database_url` (`prefect server database upgrade`)."""
    home = Path(tempfile.mkdtemp(prefix="prefect-migrate-"))
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url,
    }
    command = [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Prefect's migrations failed:\n{done.stdout}\n{done.stderr}")


def _recreate_database(conn: Connection, name: str, template: str | None) -> None:
    """Drop `name`, then CREATE it (from `template`), retried while another copy holds the
    template."""
    import sqlalchemy as sa

    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    for attempt in range(20):
        try:
            conn.execute(sa.text(statement))
            return
        except sa.exc.OperationalError as busy:
            if "is being accessed by other users" not in str(busy) or attempt == 19:
                raise
            time.sleep(0.25)


def _asyncpg_url(admin: URL, name: str) -> str:
    return admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )


@contextmanager
def local_prefect_server(
    database_url: str | None = None,
    *,
    ui: bool = False,
    startup_timeout: float = 120.0,
    extra_env: dict[str, str] | None = None,
    restart_of: LocalServer | None = None,
) -> Iterator[LocalServer]:
    """Run `prefect server start` on a free port until the block ends.

    The server gets its own PREFECT_HOME (so its SQLite default never touches the user's),
    and PREFECT_API_URL is pointed at it for this process while the block runs.
    `restart_of`: start again on that (stopped or killed) server's port and home.
    """
    refuse_in_unmarked_test("a Prefect server")
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if restart_of is not None:
        port, home = int(restart_of.api_url.rsplit(":", 1)[1].split("/")[0]), restart_of.home
    else:
        port, home = free_port(), Path(tempfile.mkdtemp(prefix="prefect-server-"))
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true" if ui else "false",
        "PREFECT_SERVER_UI_API_URL": api_url,
        "PREFECT_API_URL": api_url,
        # leases of partition locks survive a server restart (memory is Prefect's default)
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": FILE_LEASES,
        **(extra_env or {}),
    }
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    log = home / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(api_url, process, log, startup_timeout)
        with temporary_settings({PREFECT_API_URL: api_url}):
            try:
                yield LocalServer(api_url, f"http://127.0.0.1:{port}", home, log, process.pid)
            finally:
                drain_senders()  # what this process queued reaches the server before it stops
    finally:
        _stop(process)


def drain_senders(timeout: float = 10) -> None:
    """Flush Prefect's log and event senders of this process (bounded wait)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout)


def _wait_healthy(api_url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prefect server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"prefect server not healthy after {timeout:.0f} s; log: {log}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (twice: the first may be swallowed), then kill."""
    for _ in range(2):
        if process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
