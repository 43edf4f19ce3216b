"""Scratch copies for rehearsals: a template made once, one throw-away copy per cell.

The template holds the small sample warehouse (SQLite file, or a PostgreSQL schema), a
migrated audit ledger and portal database, the activity logs and the event backup, and a
scratch governance file. A cell gets its own copies of the databases (the SQLite backup API,
or `CREATE TABLE ... (LIKE ...)` in a schema of its own) and its own tree of the second
copies' files, hard links to the template's (a fault that damages a copy replaces its link,
never the shared file), so nothing a rehearsal does touches the configured warehouse, ledger
or portal, nor another cell.

The scratch governance file is the configured one with two changes a game day needs: each
pipeline's SLA is compressed (so budgets of "half the SLA time left" are seconds, not hours),
and an engineer `rehearsal` is on call for the day: the rehearsal answers the approval gate
under that name, so the ledger records the rehearsal approver as such, never a person.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import create_engine, text

from foundation.durations import format_duration
from foundation.engines import engine_for
from foundation.settings import get_settings, temporary_settings
from governance.config import parse_governance
from governance.ledger.migrate import upgrade_ledger
from portal.database import portal_engine, upgrade_portal
from warehouse.db import Platform
from warehouse.generate import generate
from warehouse.schema import drop_schema

Backend = Literal["sqlite", "postgres"]
APPROVER = "rehearsal"
"""The engineer name the rehearsal answers approval gates as (never a person's name)."""
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_counter = itertools.count(1)


@dataclass(frozen=True)
class Template:
    """The data every cell starts from."""

    root: Path
    backend: Backend
    pg_url: str | None = None
    pg_schema: str | None = None

    @property
    def governance_file(self) -> Path:
        """The scratch governance file (compressed SLAs, the rehearsal approver)."""
        return self.root / "governance.yaml"


@dataclass
class CellSpace:
    """One cell's scratch databases and folders, and the settings that point at them."""

    root: Path
    settings: dict[str, Any] = field(default_factory=dict)
    pg_url: str | None = None
    pg_schema: str | None = None

    def close(self) -> None:
        """Drop the cell's schema and folder."""
        if self.pg_url and self.pg_schema:
            engine = engine_for(self.pg_url)
            try:
                drop_schema(engine, self.pg_schema)
            finally:
                engine.dispose()
        shutil.rmtree(self.root, ignore_errors=True)


def scratch_dir() -> str | None:
    """Where scratch copies go: `RUNBOOK_SCRATCH_DIR` when set, else memory-backed `/dev/shm`
    when there is one (SQLite's syncs cost nothing there), else the system's temporary folder."""
    if chosen := os.environ.get("RUNBOOK_SCRATCH_DIR"):
        return chosen
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def build_template(
    sla: timedelta,
    backend: Backend = "sqlite",
    pg_url: str | None = None,
    parent: str | None = None,
) -> Template:
    """Generate the sample data, migrate the ledger and portal, write the scratch governance.

    Everything lives in a new folder under `parent` (default `scratch_dir()`); cells are
    made beside the template, and `remove_template` removes the folder.
    """
    root = Path(tempfile.mkdtemp(prefix="rehearsal-", dir=parent or scratch_dir())) / "template"
    root.mkdir()
    pg_url = pg_url or DEFAULT_PG_URL
    schema = f"rh_tpl_{os.getpid()}_{next(_counter)}" if backend == "postgres" else None
    template = Template(root, backend, pg_url if schema else None, schema)
    _write_governance(template.governance_file, sla)
    with temporary_settings(**_settings(template, root, schema)) as settings:
        platform = Platform.from_settings(settings)
        try:
            generate(platform, "small")
        finally:
            platform.dispose()
        for engine, upgrade in (
            (engine_for(settings.audit_url()), upgrade_ledger),
            (portal_engine(settings.portal_db_url()), upgrade_portal),
        ):
            try:
                upgrade(engine)
            finally:
                engine.dispose()
    return template


def open_cell(template: Template) -> CellSpace:
    """Fresh copies of the template's databases for one cell (beside the template).

    The second copies' files are hard links to the template's (cheap: thousands of files):
    whatever changes one replaces it (unlink, then write), never writes through the link,
    or every later copy would see the change.
    """
    root = Path(tempfile.mkdtemp(prefix="cell-", dir=template.root.parent))
    names = ["ledger.db", "portal.db"] + (["warehouse.db"] if template.backend == "sqlite" else [])
    for name in names:
        _copy_sqlite(template.root / name, root / name)
    for store in _FILE_STORES:
        shutil.copytree(template.root / store, root / store, copy_function=os.link)
    schema = None
    if template.backend == "postgres":
        schema = f"rh_{os.getpid()}_{next(_counter)}"
        _copy_schema(str(template.pg_url), str(template.pg_schema), schema)
    return CellSpace(root, _settings(template, root, schema), template.pg_url, schema)


_FILE_STORES = ("activity_logs", "event_backup")


def remove_template(template: Template) -> None:
    """Drop the template's schema and its whole scratch folder (cells included)."""
    CellSpace(template.root.parent, pg_url=template.pg_url, pg_schema=template.pg_schema).close()


def _settings(template: Template, root: Path, schema: str | None) -> dict[str, Any]:
    warehouse = str(template.pg_url) if schema else f"sqlite:///{root / 'warehouse.db'}"
    return {
        "data_dir": root,
        "warehouse_url": warehouse,
        "warehouse_schema": schema,
        "audit_url": f"sqlite:///{root / 'ledger.db'}",
        "portal_db_url": f"sqlite:///{root / 'portal.db'}",
        "activity_logs_url": str(root / "activity_logs"),
        "backup_storage_url": str(root / "event_backup"),
        "governance_file": template.governance_file,
        # scratch copies and an automatic approver: the gate takes the rehearsal's typed name
        "profile": "local",
    }


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included), through SQLite's backup API."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _copy_schema(url: str, source: str, target: str) -> None:
    """Copy every table of a PostgreSQL schema (structure, indexes, rows) into a new one."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :s AND table_type = 'BASE TABLE'"
                ),
                {"s": source},
            ).scalars()
            conn.execute(text(f'CREATE SCHEMA "{target}"'))
            for table in list(tables):
                conn.execute(
                    text(
                        f'CREATE TABLE "{target}"."{table}" '
                        f'(LIKE "{source}"."{table}" INCLUDING ALL)'
                    )
                )
                conn.execute(
                    text(f'INSERT INTO "{target}"."{table}" SELECT * FROM "{source}"."{table}"')
                )
    finally:
        engine.dispose()


def _write_governance(target: Path, sla: timedelta) -> None:
    """The configured governance with compressed SLAs and the rehearsal approver on call."""
    source = get_settings().governance.governance_file
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    for pipeline in doc["pipelines"].values():
        pipeline["sla"] = format_duration(sla)
    doc["engineers"][APPROVER] = {"email": "rehearsal@rehearsal.invalid"}
    now = datetime.now(ZoneInfo(doc["rotation"].get("timezone", "UTC"))).replace(tzinfo=None)
    doc["overrides"] = [
        *(doc.get("overrides") or []),
        {
            "from": f"{now - timedelta(days=1):%Y-%m-%dT%H:%M}",
            "to": f"{now + timedelta(days=2):%Y-%m-%dT%H:%M}",
            "primary": APPROVER,
            "reason": "rehearsal: the game day's automatic approver, not a person",
        },
    ]
    body = yaml.safe_dump(doc, sort_keys=False)
    parse_governance(body, str(target))  # refuse to rehearse with a governance file that fails
    target.write_text(
        f"# Scratch governance of a rehearsal (from {source}): SLAs compressed to "
        f"{format_duration(sla)}, the rehearsal approver on call.\n{body}",
        encoding="utf-8",
    )
