"""Set-based generation of the activity sources: sessions, events and transactions.

Each statement reads the day plan (`gen_days`) and the integer sequence (`gen_seq`) left by
`warehouse.generate`; per-row choices come from `sqlfn.hash_expr`, so output is identical on
every backend for a given seed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, text

from warehouse import sqlfn
from warehouse.db import Platform
from warehouse.scales import EVENT_TYPES, PRODUCT_WEIGHTS, PRODUCTS, Scale
from warehouse.schema import DATE_COLUMNS, SOURCE_TABLES


def _h(seed: int) -> Callable[[str, int], str]:
    return lambda x, k: sqlfn.hash_expr(x, seed * 7919 + k * 104729)


def sessions(engine: Engine, seed: int) -> None:
    """Sessions per planned day, by users registered up to that day, 6:00-24:00."""
    h = _h(seed)
    sid = "(g.first_session + q.n)"
    start = f"(21600 + {h(sid, 5)} % 64800)"
    duration = f"(20 + {h(sid, 6)} % 420 + ({h(sid, 7)} % 4) * ({h(sid, 8)} % 600))"
    with engine.begin() as conn:
        conn.execute(
            text(f"""
            INSERT INTO sessions (session_id, user_id, session_date, started_at, ended_at,
                                  duration_s, event_count)
            SELECT sid, user_id, day, {sqlfn.add_seconds(engine, "day", "start_s")},
                   {sqlfn.add_seconds(engine, "day", "start_s + dur")}, dur, n_events
            FROM (SELECT {sid} AS sid, g.day AS day,
                         {h(sid, 4)} % (g.first_user + g.n_users) AS user_id,
                         {start} AS start_s, {duration} AS dur,
                         1 + ({h(sid, 9)} % 5) + ({h(sid, 10)} % 4) AS n_events
                  FROM gen_days g JOIN gen_seq q ON q.n < g.n_sessions) s""")
        )


def events(engine: Engine, seed: int) -> None:
    """The app event stream: `event_count` events spread over each session."""
    h = _h(seed)
    eid = "(s.session_id * 8 + q.n)"
    kind = sqlfn.case_pick(h(eid, 11), EVENT_TYPES[1:5])
    ts = sqlfn.add_seconds(engine, "s.started_at", "q.n * s.duration_s / s.event_count")
    with engine.begin() as conn:
        conn.execute(
            text(f"""
            INSERT INTO events (event_id, user_id, session_id, event_date, occurred_at, event_type)
            SELECT eid, user_id, session_id, {sqlfn.date_of(engine, "ts")}, ts, event_type
            FROM (SELECT {eid} AS eid, s.user_id AS user_id, s.session_id AS session_id,
                         {ts} AS ts,
                         CASE WHEN q.n = 0 THEN 'app_open' ELSE {kind} END AS event_type
                  FROM sessions s JOIN gen_seq q ON q.n < s.event_count) e""")
        )


def transactions(platform: Platform, sc: Scale, seed: int) -> None:
    """Purchases at the end of about one session in five; checkout_v2 treatment buys more.

    The region comes from the buyer's registration, so when sources live apart the buyer
    attributes are read from the warehouse-side mirror (same table names).
    """
    engine = platform.source("transactions")
    h = _h(seed)
    code = _weighted_product(h("s.session_id", 12))
    bump = f"(CASE WHEN ea.arm = 'treatment' AND {h('s.session_id', 14)} % 3 = 0 THEN 1 ELSE 0 END)"
    with engine.begin() as conn:
        conn.execute(
            text(f"""
            INSERT INTO transactions (txn_id, txn_date, occurred_at, user_id, product_code,
                                      region_code, quantity, revenue_cents)
            SELECT t.txn_id, t.txn_date, t.occurred_at, t.user_id, t.product_code,
                   t.region_code, t.quantity, t.quantity * p.price_cents
            FROM (SELECT s.session_id AS txn_id, s.session_date AS txn_date,
                         s.ended_at AS occurred_at, s.user_id AS user_id, {code} AS product_code,
                         r.region_code AS region_code,
                         1 + {h("s.session_id", 13)} % 2 + {bump} AS quantity
                  FROM sessions s
                  JOIN registrations r ON r.user_id = s.user_id
                  LEFT JOIN experiment_assignments ea
                    ON ea.user_id = s.user_id AND ea.experiment = 'checkout_v2'
                  WHERE {h("s.session_id", 11)} % 5 = 0) t
            JOIN products p ON p.product_code = t.product_code""")
        )
        conn.execute(
            text("""
            INSERT INTO cost_allocations (period, product_code, region_code, cost_cents)
            SELECT cp.period, t.product_code, t.region_code,
                   CAST(SUM(t.revenue_cents) AS BIGINT) * 18 / 100
            FROM transactions t
            JOIN cost_periods cp ON t.txn_date BETWEEN cp.start_date AND cp.end_date
            GROUP BY cp.period, t.product_code, t.region_code""")
        )


def _weighted_product(expr: str) -> str:
    total, acc, whens = sum(PRODUCT_WEIGHTS), 0, []
    for p, w in zip(PRODUCTS, PRODUCT_WEIGHTS, strict=True):
        acc += w
        whens.append(f"WHEN ({expr}) % {total} < {acc} THEN '{p[0]}'")
    return f"(CASE {' '.join(whens)} END)"


def manifests(engine: Engine, source: str) -> None:
    """Control totals: the source's own count of rows per day for each dated table."""
    with engine.begin() as conn:
        for table in SOURCE_TABLES[source]:
            col = DATE_COLUMNS.get(table.name)
            if col:
                conn.execute(
                    text(f"""
                    INSERT INTO source_manifests (source_table, day, row_count)
                    SELECT '{table.name}', {col}, COUNT(*) FROM {table.name} GROUP BY {col}""")
                )
