"""The warehouse's own tables: the partition ledger, annotations, staged logs, facts, and the
provenance of rows restored from second copies.

Every fact table carries `partition_key` plus the bounds it was computed with
(`period_start`, `period_end`), so a misaligned partition is visible in the data itself.
The schema is migrated with Alembic (`alembic/versions`); `warehouse_metadata` is its target.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

warehouse_metadata = MetaData()
md = warehouse_metadata


def _bounds() -> list[Column]:
    return [
        Column("partition_key", String(16), nullable=False, index=True),
        Column("period_start", Date, nullable=False),
        Column("period_end", Date, nullable=False),
    ]


partition_runs = Table(
    "partition_runs", md,
    Column("pipeline", String(64), primary_key=True),
    Column("partition_key", String(16), primary_key=True),
    Column("status", String(16), nullable=False),  # see warehouse.partition_state
    Column("row_count", BigInteger),
    Column("source_rows", BigInteger),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("error", Text),
    Column("failing_checks", Text),  # JSON list of the blocking checks that failed
    Column("checked_at", DateTime),
)  # fmt: skip
annotations_table = Table(
    "annotations", md,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(64), nullable=False),
    Column("partition_key", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
)  # fmt: skip
activity_log_events = Table(
    "activity_log_events", md,
    Column("day", Date, nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False),
    Column("event_type", String(16), nullable=False),
    Column("region_code", String(8)),
)  # fmt: skip
unit_profit_daily = Table(
    "unit_profit_daily", md, *_bounds(),
    Column("day", Date, nullable=False),
    Column("experiment", String(32), nullable=False),
    Column("arm", String(16), nullable=False),
    Column("buyers", BigInteger, nullable=False),
    Column("transactions", BigInteger, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("revenue_cents", BigInteger, nullable=False),
    Column("cogs_cents", BigInteger, nullable=False),
    Column("profit_cents", BigInteger, nullable=False),
)  # fmt: skip
profit_monthly = Table(
    "profit_monthly", md, *_bounds(),
    Column("product_code", String(16)),
    Column("region_code", String(8)),
    Column("transactions", BigInteger, nullable=False),
    Column("revenue_cents", BigInteger, nullable=False),
    Column("cogs_cents", BigInteger, nullable=False),
    Column("allocated_cents", BigInteger, nullable=False),
    Column("profit_cents", BigInteger, nullable=False),
)  # fmt: skip
growth_daily = Table(
    "growth_daily", md, *_bounds(),
    Column("day", Date, nullable=False),
    Column("region_code", String(8)),
    Column("registrations", BigInteger, nullable=False),
    Column("cancellations", BigInteger, nullable=False),
)  # fmt: skip
growth_weekly = Table(
    "growth_weekly", md, *_bounds(),
    Column("region_code", String(8)),
    Column("new_users", BigInteger, nullable=False),
    Column("churned_users", BigInteger, nullable=False),
    Column("net_new_users", BigInteger, nullable=False),
)  # fmt: skip
growth_experiments_daily = Table(
    "growth_experiments_daily", md, *_bounds(),
    Column("day", Date, nullable=False),
    Column("experiment", String(32), nullable=False),
    Column("arm", String(16), nullable=False),
    Column("new_users", BigInteger, nullable=False),
    Column("churned_users", BigInteger, nullable=False),
    Column("active_users", BigInteger, nullable=False),
)  # fmt: skip
engagement_daily = Table(
    "engagement_daily", md, *_bounds(),
    Column("day", Date, nullable=False),
    Column("dau", BigInteger, nullable=False),
    Column("sessions", BigInteger, nullable=False),
    Column("total_duration_s", BigInteger),
)  # fmt: skip
engagement_monthly = Table(
    "engagement_monthly", md, *_bounds(),
    Column("mau", BigInteger, nullable=False),
    Column("dau_avg", Float, nullable=False),
    Column("sessions", BigInteger, nullable=False),
    Column("avg_session_s", Float),
)  # fmt: skip
restored_rows = Table(
    "restored_rows", md,
    Column("source_table", String(64), primary_key=True),
    Column("row_key", BigInteger, primary_key=True, autoincrement=False),
    Column("day", Date, nullable=False),
    Column("file", Text, nullable=False),
    Column("load_id", String(32), nullable=False),
    Column("restored_at", DateTime, nullable=False),
    Index("ix_restored_rows_table_day", "source_table", "day"),
)  # fmt: skip
"""Provenance of every source row a restore inserted from a second copy (file and load), so
a later restore of the same day from a corrected file replaces exactly those rows."""
