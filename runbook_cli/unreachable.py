"""A database that cannot be reached costs the operator one line, not a driver's traceback.

Every command reads or writes a store: the audit ledger, the warehouse, the portal's
database. When one is down, refuses connections or is read-only, SQLAlchemy raises an
`OperationalError` whose traceback is thirty lines of driver internals. The console script
turns it into one line: which store (found by trying each configured one again), its URL
without the password, the driver's complaint, and what to do next. Errors that are not about
reaching a database (a bug, a constraint) keep their traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from foundation.settings import AppSettings, get_settings
from governance.ledger.availability import problem_line

STORES = (
    ("the audit ledger", "RUNBOOK_AUDIT_URL", AppSettings.audit_url),
    ("the warehouse", "RUNBOOK_WAREHOUSE_URL", AppSettings.warehouse_url),
    ("the portal's database", "RUNBOOK_PORTAL_DB_URL", AppSettings.portal_db_url),
)


def tell_unreachable(exc: BaseException) -> None:
    """Exit 1 with one line if `exc` says a database cannot be reached; else return."""
    if isinstance(exc, OperationalError | InterfaceError):
        typer.echo(f"error: {unreachable_line(exc, get_settings())}", err=True)
        raise SystemExit(1) from None


def unreachable_line(exc: BaseException, settings: AppSettings) -> str:
    """Name the store(s) that fail now, the driver's complaint and the next step."""
    named: dict[str, list[tuple[str, str]]] = {}
    for label, variable, url_of in STORES:
        named.setdefault(url_of(settings), []).append((label, variable))
    complaint = problem_line(exc)
    down = {url: stores for url, stores in named.items() if not _opens(url)}
    if not down:
        return (
            f"a database refused the command ({complaint}); check that the stores this "
            f"command uses ({_listing(named)}) are running and writable, then run it again"
        )
    variables = " / ".join(variable for stores in down.values() for _label, variable in stores)
    return (
        f"{_listing(down)} cannot be reached ({complaint}); start it or point {variables} "
        f"at a running database, then run the command again"
    )


def _listing(named: dict[str, list[tuple[str, str]]]) -> str:
    """`the audit ledger and the warehouse at URL, the portal's database at URL`."""
    return ", ".join(
        f"{' and '.join(label for label, _v in stores)} at {_shown(url)}"
        for url, stores in named.items()
    )


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _opens(url: str) -> bool:
    """Whether a connection to `url` opens and can write now (never creates a SQLite file)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database == ":memory:":
            return True
        if path.exists():
            return os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK)
        return path.parent.is_dir() and os.access(path.parent, os.W_OK)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except (OperationalError, InterfaceError):
        return False
    finally:
        engine.dispose()
