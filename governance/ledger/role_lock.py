"""One holder of a role at a time among the processes that share the audit ledger.

The event door must be exactly one: two doors would both create a run for the event that
opens an incident and both page for a burst of refusals. Every `runbook serve` and
`runbook door` shares the ledger, so the ledger's database decides who holds the role: on
PostgreSQL a session-level advisory lock on a connection of its own (the database frees it
when the holder's connection or process dies), on SQLite an exclusive `flock` on a file beside
the database file (the kernel frees it when the holder dies; SQLite's ledger is one host's
anyway). The others stand by and try again, so one of them takes over after the holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine


class RoleLock(Protocol):
    """A lock naming the one process that plays a role."""

    def acquire(self) -> bool:
        """Take the role if nobody holds it; True when this process holds it (now or before)."""
        ...

    def held(self) -> bool:
        """Whether this process still holds the role (False once its hold was lost)."""
        ...

    def release(self) -> None:
        """Give the role up (nothing when not held)."""
        ...


def role_lock(engine: Engine, role: str) -> RoleLock:
    """The lock of `role` on the ledger's database."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, role)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLock(Path(f"{database}.{role}.lock"))
    return ProcessLock()  # a private in-memory database: nobody else shares it


class AdvisoryLock:
    """A PostgreSQL session advisory lock, held on a dedicated connection."""

    def __init__(self, engine: Engine, role: str) -> None:
        self.engine = engine
        self.key = sa.func.hashtext(f"runbook-role:{role}")
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if self._conn is not None:
            return self.held()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(self.key))).scalar())
        except Exception:
            conn.invalidate()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.select(sa.literal(1)))
        except Exception:  # the connection is gone, and the lock with it
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(sa.select(sa.func.pg_advisory_unlock(self.key)))
            self._conn.close()
        except Exception:
            self._conn.invalidate()  # never hand a connection that may hold it back to the pool
        self._conn = None

    def _drop(self) -> None:
        with contextlib.suppress(Exception):
            assert self._conn is not None
            self._conn.invalidate()
        self._conn = None


class FileLock:
    """An exclusive `flock` on a file beside a SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a person looking
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


class ProcessLock:
    """The role within one process (a ledger nobody else can open)."""

    def __init__(self) -> None:
        self._held = False

    def acquire(self) -> bool:
        self._held = True
        return True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False
