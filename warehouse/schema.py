"""Tables: the source systems' schemas, and creating, emptying and migrating the warehouse's.

Source systems belong to other teams, so their tables are created by the sample-data
generator (and may drift); the warehouse schema (`warehouse.tables`) is ours and is migrated
with Alembic (`migrate`, which the sample-data generator runs too). `create_warehouse` is
the fast path tests use; `migrate` adopts a warehouse it created.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
    text,
)

from foundation.settings import PROJECT_ROOT
from warehouse.tables import warehouse_metadata

source_metadata = MetaData()


def _t(name: str, md: MetaData, *cols: Column | Index) -> Table:
    return Table(name, md, *cols)


# --- transaction DB -----------------------------------------------------------------------
products = _t(
    "products", source_metadata,
    Column("product_code", String(16), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("unit_cost_cents", Integer, nullable=False),
)  # fmt: skip
regions = _t(
    "regions", source_metadata,
    Column("region_code", String(8), primary_key=True),
    Column("name", String(64), nullable=False),
)  # fmt: skip
transactions = _t(
    "transactions", source_metadata,
    Column("txn_id", BigInteger, primary_key=True, autoincrement=False),
    Column("txn_date", Date, nullable=False, index=True),
    Column("occurred_at", DateTime, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("product_code", String(16)),
    Column("region_code", String(8)),
    Column("quantity", Integer, nullable=False),
    Column("revenue_cents", BigInteger),
)  # fmt: skip
cost_periods = _t(
    "cost_periods", source_metadata,
    Column("period", String(8), primary_key=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
)  # fmt: skip
cost_allocations = _t(
    "cost_allocations", source_metadata,
    Column("period", String(8), primary_key=True),
    Column("product_code", String(16), primary_key=True),
    Column("region_code", String(8), primary_key=True),
    Column("cost_cents", BigInteger, nullable=False),
)  # fmt: skip
# --- user registration DB -----------------------------------------------------------------
registrations = _t(
    "registrations", source_metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("registered_on", Date, nullable=False, index=True),
    Column("registered_at", DateTime, nullable=False),
    Column("region_code", String(8)),
    Column("channel", String(16), nullable=False),
)  # fmt: skip
subscription_cancellations = _t(
    "subscription_cancellations", source_metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("cancelled_on", Date, nullable=False, index=True),
    Column("cancelled_at", DateTime, nullable=False),
    Column("reason", String(32), nullable=False),
)  # fmt: skip
experiment_assignments = _t(
    "experiment_assignments", source_metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("experiment", String(32), primary_key=True),
    Column("arm", String(16), nullable=False),
)  # fmt: skip
# --- app event stream and session logs ----------------------------------------------------
sessions = _t(
    "sessions", source_metadata,
    Column("session_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger),
    Column("session_date", Date, nullable=False, index=True),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=False),
    Column("duration_s", Integer),
    Column("event_count", Integer, nullable=False),
)  # fmt: skip
events = _t(
    "events", source_metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger),
    Column("session_id", BigInteger, nullable=False),
    Column("event_date", Date, nullable=False, index=True),
    Column("occurred_at", DateTime, nullable=False),
    Column("event_type", String(16)),
)  # fmt: skip
source_manifests = _t(
    "source_manifests", source_metadata,
    Column("source_table", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("row_count", BigInteger, nullable=False),
)  # fmt: skip

SOURCE_TABLES: dict[str, tuple[Table, ...]] = {
    "transactions": (products, regions, transactions, cost_periods, cost_allocations),
    "registrations": (registrations, subscription_cancellations, experiment_assignments),
    "events": (sessions, events),
}
"""Tables of each source system (every source also keeps `source_manifests`)."""

DATE_COLUMNS = {
    "transactions": "txn_date",
    "registrations": "registered_on",
    "subscription_cancellations": "cancelled_on",
    "sessions": "session_date",
    "events": "event_date",
}
"""The partitioning date column of each date-partitioned source table."""


def create_sources(engine: Engine, source: str, *, drop: bool = False) -> None:
    """Create (or with `drop`, recreate empty) the tables of source system `source`."""
    tables = [*SOURCE_TABLES[source], source_manifests]
    if drop:
        source_metadata.drop_all(engine, tables=tables)
    source_metadata.create_all(engine, tables=tables)


def create_warehouse(engine: Engine) -> None:
    """Create the warehouse tables that do not exist yet (no migration history)."""
    warehouse_metadata.create_all(engine)


def reset_warehouse(engine: Engine) -> None:
    """Empty every warehouse table: facts, ledger, annotations, staged logs."""
    with engine.begin() as conn:
        for table in reversed(warehouse_metadata.sorted_tables):
            conn.execute(table.delete())


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the warehouse schema to `revision` with the project's Alembic migrations.

    A warehouse whose tables were created without migrations (`create_warehouse`, as
    `runbook data generate` did) is adopted first: stamped at the newest revision its tables
    already match, then upgraded from there.
    """
    from alembic.config import Config  # deferred: Alembic is only needed to migrate

    from alembic import command

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        adopt = _unversioned_revision(conn)
        if adopt is not None:
            command.stamp(cfg, adopt)
        command.upgrade(cfg, revision)


def _unversioned_revision(conn: Connection) -> str | None:
    """The revision an unmigrated warehouse's tables match; None if versioned or empty."""
    found = inspect(conn)
    if found.has_table("alembic_version") or not found.has_table("partition_runs"):
        return None
    columns = {c["name"] for c in found.get_columns("partition_runs")}
    if "failing_checks" not in columns:
        return "0001"
    if found.has_table("restored_rows"):
        return "0004"
    return "0002" if found.has_table("injected_faults") else "0003"


def table_names(engine: Engine) -> set[str]:
    """Tables visible in the engine's default schema."""
    return set(inspect(engine).get_table_names())


def drop_schema(engine: Engine, schema: str) -> None:
    """Drop a PostgreSQL schema and everything in it (test and tenant cleanup)."""
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
