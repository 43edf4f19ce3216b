"""Set up the stores commands write to: the audit ledger's and the portal's migrations.

Nothing creates tables at run time. The commands that set things up (`runbook data
generate`/`migrate`, `runbook serve`, `runbook demo`, `runbook portal serve`/`migrate`)
upgrade the stores first; everything else only checks and names the command to run, in one
line, before it starts anything (`require_ledger_or_exit`).
"""

from __future__ import annotations

import typer

from foundation.engines import engine_for
from foundation.migrations import StoreNotReady
from foundation.settings import AppSettings, get_settings
from governance.ledger.migrate import require_ledger_schema, upgrade_ledger
from portal.database import portal_engine, upgrade_portal


def upgrade_ledger_store(settings: AppSettings | None = None) -> str | None:
    """Upgrade the configured audit ledger; return its revision."""
    engine = engine_for((settings or get_settings()).audit_url())
    try:
        return upgrade_ledger(engine)
    finally:
        engine.dispose()


def upgrade_portal_store(settings: AppSettings | None = None) -> str | None:
    """Upgrade the configured portal database; return its revision."""
    engine = portal_engine((settings or get_settings()).portal_db_url())
    try:
        return upgrade_portal(engine)
    finally:
        engine.dispose()


def upgrade_stores(settings: AppSettings | None = None) -> None:
    """Upgrade the audit ledger and the portal database (what the demo needs)."""
    upgrade_ledger_store(settings)
    upgrade_portal_store(settings)


def require_ledger_or_exit(settings: AppSettings | None = None) -> None:
    """Exit 1 with one line naming the set-up command unless the audit ledger is migrated.

    Checked before a run starts (and before Prefect starts a local server for it), so a fresh
    data folder costs one clear line, not a flow run's traceback.
    """
    engine = engine_for((settings or get_settings()).audit_url())
    try:
        require_ledger_schema(engine)
    except StoreNotReady as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
