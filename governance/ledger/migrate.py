"""The audit ledger's schema under Alembic: its own scripts (`migrations/`) and version table.

The ledger usually lives in the warehouse's database, whose Alembic history is the
warehouse's own, so the ledger keeps its revision in `alembic_version_ledger`. Set-up commands
(`runbook data migrate`, `runbook data generate`, `runbook serve`, `runbook demo`) call
`upgrade_ledger`; opening a `Ledger` calls `require_ledger_schema`, which only reads.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from foundation.migrations import MigratedStore, require_current, upgrade

LEDGER_HEAD = "ledger_0005"

LEDGER_STORE = MigratedStore(
    name="audit ledger",
    script_location=Path(__file__).resolve().parent / "migrations",
    version_table="alembic_version_ledger",
    head=LEDGER_HEAD,
    lock_id=0x1ED6E5,
    setup_command="runbook data migrate",
    baseline="ledger_0001",
    baseline_tables=(
        "ledger_incidents",
        "ledger_incident_events",
        "ledger_step_results",
        "ledger_approval_requests",
        "ledger_approval_answers",
        "ledger_publications",
        "ledger_notifications",
    ),
)


def upgrade_ledger(engine: Engine, schema: str | None = None) -> str | None:
    """Bring the ledger's tables to the code's revision; safe from many processes at once."""
    return upgrade(LEDGER_STORE, engine, schema)


def require_ledger_schema(engine: Engine, schema: str | None = None) -> None:
    """StoreNotReady (naming the command to run) unless the ledger is at `LEDGER_HEAD`."""
    require_current(LEDGER_STORE, engine, schema)
