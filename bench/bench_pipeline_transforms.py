"""Each pipeline's transform for one partition against one hand-written SQL statement.

Usage: .venv/bin/python bench/bench_pipeline_transforms.py [--url URL] [--schema S] [--repeat 3]
Needs data from bench/bench_data_generate.py (or `runbook data generate --scale bench`) in the
same database. The transform (`warehouse.transform.run_transform`: fault lookup, DELETE,
INSERT ... SELECT per step, ledger row, commit) is timed against the same aggregation
written by hand as one SELECT, both warmed up once, medians of --repeat runs. Goal: <= 1.2.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import text

PARTITIONS = {
    "unit_profit_experiments": "2026-03-14",
    "aggregate_profit": "2026-03",
    "aggregate_growth": "2026-W11",
    "daily_growth_experiments": "2026-03-14",
    "aggregate_engagement": "2026-03",
}
BASELINES = {
    "unit_profit_experiments": """
        SELECT t.txn_date, ea.experiment, ea.arm, COUNT(DISTINCT t.user_id), COUNT(*),
               SUM(t.quantity), SUM(t.revenue_cents), SUM(t.quantity * pr.unit_cost_cents),
               SUM(t.revenue_cents - t.quantity * pr.unit_cost_cents)
        FROM transactions t JOIN experiment_assignments ea ON ea.user_id = t.user_id
        LEFT JOIN products pr ON pr.product_code = t.product_code
        WHERE t.txn_date BETWEEN :start AND :end GROUP BY t.txn_date, ea.experiment, ea.arm""",
    "aggregate_profit": """
        SELECT t.product_code, t.region_code, COUNT(*), SUM(t.revenue_cents),
               SUM(t.quantity * pr.unit_cost_cents), MAX(ca.cost_cents)
        FROM transactions t LEFT JOIN products pr ON pr.product_code = t.product_code
        LEFT JOIN cost_allocations ca ON ca.period = :p AND ca.product_code = t.product_code
             AND ca.region_code = t.region_code
        WHERE t.txn_date BETWEEN :start AND :end GROUP BY t.product_code, t.region_code""",
    "aggregate_growth": """
        SELECT region_code, SUM(regs), SUM(cancels), SUM(regs) - SUM(cancels)
        FROM (SELECT region_code, 1 AS regs, 0 AS cancels FROM registrations
              WHERE registered_on BETWEEN :start AND :end
              UNION ALL
              SELECT r.region_code, 0, 1 FROM subscription_cancellations c
              JOIN registrations r ON r.user_id = c.user_id
              WHERE c.cancelled_on BETWEEN :start AND :end) d GROUP BY region_code""",
    "daily_growth_experiments": """
        SELECT ea.experiment, ea.arm, SUM(x.new), SUM(x.churn), SUM(x.active)
        FROM (SELECT user_id, 1 AS new, 0 AS churn, 0 AS active FROM registrations
              WHERE registered_on BETWEEN :start AND :end
              UNION ALL SELECT user_id, 0, 1, 0 FROM subscription_cancellations
              WHERE cancelled_on BETWEEN :start AND :end
              UNION ALL SELECT DISTINCT user_id, 0, 0, 1 FROM events
              WHERE event_date BETWEEN :start AND :end) x
        JOIN experiment_assignments ea ON ea.user_id = x.user_id GROUP BY ea.experiment, ea.arm""",
    "aggregate_engagement": """
        SELECT (SELECT COUNT(DISTINCT user_id) FROM events
                WHERE event_date BETWEEN :start AND :end),
               (SELECT AVG(dau * 1.0) FROM (SELECT event_date, COUNT(DISTINCT user_id) AS dau
                FROM events WHERE event_date BETWEEN :start AND :end GROUP BY event_date) d),
               (SELECT COUNT(*) FROM (SELECT session_date, COUNT(*), SUM(duration_s) FROM sessions
                WHERE session_date BETWEEN :start AND :end GROUP BY session_date) s),
               COUNT(*), AVG(duration_s * 1.0)
        FROM sessions WHERE session_date BETWEEN :start AND :end""",
}


def _time(fn, repeat: int) -> float:
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=None)
    ap.add_argument("--schema", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from foundation.settings import get_settings
    from warehouse.db import Platform, engine_for
    from warehouse.sql import bound, partition_params
    from warehouse.transform import resolve, run_transform

    engine = engine_for(args.url or get_settings().warehouse_url(), args.schema)
    platform = Platform.of(engine)
    with engine.connect() as conn:
        n_events = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    print(f"{engine.url.render_as_string(hide_password=True)}: {n_events:,} events")
    print(f"{'pipeline':26} {'partition':11} {'transform s':>11} {'baseline s':>10} {'ratio':>6}")
    for name, key in PARTITIONS.items():
        pipe, part = resolve(name, key, get_settings().warehouse.fiscal_calendar)
        params = partition_params(part)
        sql = bound(BASELINES[name])

        def baseline(sql=sql, params=params) -> None:
            with engine.connect() as conn:
                conn.execute(sql, params).all()

        t = _time(lambda pipe=pipe, part=part: run_transform(platform, pipe, part), args.repeat)
        b = _time(baseline, args.repeat)
        print(f"{name:26} {key:11} {t:11.3f} {b:10.3f} {t / b:6.2f}")
    print(
        "note: the baseline only SELECTs the final aggregate; the transform also DELETEs\n"
        "the old partition and INSERTs it for every step (e.g.\n"
        "aggregate_growth writes growth_daily per day and region, then rolls it up into\n"
        "growth_weekly), replaces the partition_runs ledger row and commits."
    )


if __name__ == "__main__":
    main()
