"""Deterministic sample data, generated inside the database with set-based SQL.

Per-day volumes (growth, weekly and yearly seasonality, seeded jitter) are planned in Python
as a few hundred rows; every source row is then produced by `INSERT ... SELECT` from that
plan and an integer sequence, with an integer hash for the per-row choices, so SQLite and
PostgreSQL produce identical data and 10M events load in one statement.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Column, Date, Engine, Integer, MetaData, Table, insert, text

from warehouse import generate_activity as activity
from warehouse import logs_storage, schema, sqlfn
from warehouse.calendar import partitions_between
from warehouse.db import Platform
from warehouse.scales import (
    CANCEL_REASONS,
    CHANNELS,
    EXPERIMENTS,
    PRODUCTS,
    REGION_WEIGHTS,
    REGIONS,
    SCALES,
    Scale,
)
from warehouse.schema import SOURCE_TABLES, cost_periods, products, regions

Progress = Callable[[str], None]

_plan_md = MetaData()
gen_days = Table(
    "gen_days", _plan_md,
    Column("d", Integer, primary_key=True),
    Column("day", Date, nullable=False),
    Column("first_user", Integer, nullable=False),
    Column("n_users", Integer, nullable=False),
    Column("first_session", Integer, nullable=False),
    Column("n_sessions", Integer, nullable=False),
)  # fmt: skip
gen_seq = Table("gen_seq", _plan_md, Column("n", Integer, primary_key=True))


def plan_days(scale: Scale, seed: int) -> list[dict]:
    """Users registered and sessions held per day: growth, seasonality and jitter."""
    rng = random.Random(seed)
    reg_w, ses_w = [], []
    for d in range(scale.days):
        day = scale.first_day + timedelta(d)
        yearly = 1 + 0.08 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365)
        weekend = day.weekday() >= 5
        reg_w.append((1 + 1.2 * d / scale.days) * (1.1 if weekend else 1) * yearly)
        ses_w.append((0.8 if weekend else 1.0) * yearly * rng.uniform(0.97, 1.03))
    users = _apportion(scale.users, reg_w)
    base = [sum(users[: d + 1]) + scale.users * 0.1 for d in range(scale.days)]
    sessions = _apportion(scale.sessions, [w * b for w, b in zip(ses_w, base, strict=True)])
    rows, fu, fs = [], 0, 0
    for d in range(scale.days):
        day = scale.first_day + timedelta(d)
        rows.append(dict(d=d, day=day, first_user=fu, n_users=users[d],
                         first_session=fs, n_sessions=sessions[d]))  # fmt: skip
        fu, fs = fu + users[d], fs + sessions[d]
    return rows


def _apportion(total: int, weights: list[float]) -> list[int]:
    acc, out, prev, s = 0.0, [], 0, sum(weights)
    for w in weights:
        acc += w
        cur = round(total * acc / s)
        out.append(cur - prev)
        prev = cur
    return out


def generate(
    platform: Platform | Engine,
    scale: str = "small",
    seed: int = 7,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Replace all source data with a fresh deterministic sample; returns rows per table.

    The activity logs and the event backup are written to the platform's file stores.
    """
    platform = Platform.of(platform)
    step = progress or (lambda _msg: None)
    sc = SCALES[scale]
    calendar = platform.config.fiscal_calendar
    logs_root, backup_root = platform.config.activity_logs(), platform.config.event_backup()
    for name in SOURCE_TABLES:
        schema.create_sources(platform.source(name), name, drop=True)
    schema.migrate(platform.warehouse)
    schema.reset_warehouse(platform.warehouse)
    platform.hooks.after_reset(platform)
    step("plan")
    tx, reg, ev = (platform.source(n) for n in ("transactions", "registrations", "events"))
    with tx.begin() as conn:
        conn.execute(insert(products), [dict(zip(
            ("product_code", "name", "category", "price_cents", "unit_cost_cents"), p,
            strict=True)) for p in PRODUCTS])  # fmt: skip
        conn.execute(insert(regions), [dict(region_code=c, name=n) for c, n in REGIONS])
        periods = partitions_between("fiscal_month", sc.first_day, sc.last_day, calendar)
        conn.execute(insert(cost_periods), [
            dict(period=p.key, start_date=p.start, end_date=p.end) for p in periods])  # fmt: skip
    plan = plan_days(sc, seed)
    for engine in {id(e): e for e in (tx, reg, ev)}.values():
        _write_plan(engine, plan)
    step("registrations")
    _registrations(reg, sc, seed)
    step("sessions")
    activity.sessions(ev, seed)
    step("events")
    activity.events(ev, seed)
    step("transactions")
    activity.transactions(platform, sc, seed)
    step("manifests")
    for name in SOURCE_TABLES:
        activity.manifests(platform.source(name), name)
    for engine in {id(e): e for e in (tx, reg, ev)}.values():
        _plan_md.drop_all(engine)
    step("activity logs")
    logs_storage.write_activity_logs(reg, logs_root)
    step("event backup")
    logs_storage.write_event_backup(ev, backup_root)
    return row_counts(platform)


def row_counts(platform: Platform) -> dict[str, int]:
    """Rows in every source table."""
    out = {}
    for name, tables in SOURCE_TABLES.items():
        with platform.source(name).connect() as conn:
            for t in tables:
                out[t.name] = conn.execute(text(f"SELECT COUNT(*) FROM {t.name}")).scalar_one()
    return out


def _write_plan(engine: Engine, plan: list[dict]) -> None:
    _plan_md.drop_all(engine)
    _plan_md.create_all(engine)
    longest = max(max(r["n_users"], r["n_sessions"]) for r in plan) + 8
    with engine.begin() as conn:
        conn.execute(insert(gen_days), plan)
        conn.execute(insert(gen_seq), [{"n": n} for n in range(longest)])


def _weighted(expr: str, values: list[str], weights: list[int]) -> str:
    """CASE picking a value with the given integer weights from `expr % sum(weights)`."""
    total, acc, whens = sum(weights), 0, []
    for v, w in zip(values, weights, strict=True):
        acc += w
        whens.append(f"WHEN ({expr}) % {total} < {acc} THEN '{v}'")
    return f"(CASE {' '.join(whens)} END)"


def _registrations(engine: Engine, sc: Scale, seed: int) -> None:
    h = lambda x, k: sqlfn.hash_expr(x, seed * 7919 + k * 104729)  # noqa: E731
    u = "(g.first_user + q.n)"
    region = _weighted(h(u, 2), [r[0] for r in REGIONS], REGION_WEIGHTS)
    with engine.begin() as conn:
        conn.execute(
            text(f"""
            INSERT INTO registrations (user_id, registered_on, registered_at, region_code, channel)
            SELECT {u}, g.day, {sqlfn.add_seconds(engine, "g.day", h(u, 1) + " % 86400")},
                   {region}, {sqlfn.case_pick(h(u, 3), CHANNELS)}
            FROM gen_days g JOIN gen_seq q ON q.n < g.n_users""")
        )
        offset = f"(14 + {h('user_id', 13)} % 300)"
        cancelled_at = sqlfn.add_seconds(engine, "c_on", h("user_id", 15) + " % 86400")
        cancelled_on = sqlfn.add_days(engine, "registered_on", offset)
        conn.execute(
            text(f"""
            INSERT INTO subscription_cancellations (user_id, cancelled_on, cancelled_at, reason)
            SELECT user_id, c_on, {cancelled_at},
                   {sqlfn.case_pick(h("user_id", 16), CANCEL_REASONS)}
            FROM (SELECT user_id, {cancelled_on} AS c_on FROM registrations
                  WHERE {h("user_id", 14)} % 100 < 22) c
            WHERE c_on <= :last"""),
            {"last": sc.last_day},
        )
        for i, (exp, arms) in enumerate(EXPERIMENTS.items()):
            conn.execute(
                text(f"""
                INSERT INTO experiment_assignments (user_id, experiment, arm)
                SELECT user_id, '{exp}', {sqlfn.case_pick(h("user_id", 20 + i), arms)}
                FROM registrations""")
            )
