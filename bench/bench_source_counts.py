"""Source-count validation as the source grows, against the database's own COUNT.

Usage: .venv/bin/python bench/bench_source_counts.py [--rows 100k,1M] [--days 546] [--url URL]
       [--schema S] [--repeat 9]
For each size, that many transactions spread over `--days` days are generated in SQL in the
transaction source, and the aggregate_profit transform is run for fiscal month 2026-03. Then,
warmed up once, medians of `--repeat` interleaved runs:

- validation: `warehouse.source_counts.source_counts(platform, pipe, part)` for the
  month, the code of the `checks.source_counts` step (the month's source count and
  the warehouse's sum);
- baseline: the database's own `SELECT COUNT(*)` of the month's transactions, one statement.

Prints both, validation over baseline (goal: flat as rows grow, i.e. the validation grows no
faster than the database's own COUNT) and, for scale, `COUNT(*)` of the whole table.
A PostgreSQL run uses its own schema (default `bench_counts_<pid>`), dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, text

from warehouse import schema, sqlfn
from warehouse.config import WarehouseConfig
from warehouse.db import Platform, engine_for
from warehouse.scales import PRODUCTS, REGIONS, SCALES
from warehouse.source_counts import source_counts
from warehouse.sql import bound, partition_params
from warehouse.transform import resolve, run_transform

PIPELINE, PARTITION = "aggregate_profit", "2026-03"
FIRST_DAY = SCALES["bench"].first_day


def _count(text_value: str) -> int:
    """`100k`, `1M`, `10M` or a plain number."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text_value[-1].lower(), 1)
    return int(float(text_value.rstrip("kKmM")) * scale)


def _generate(engine: Engine, rows: int, days: int) -> None:
    """A fresh transaction source: products, regions and `rows` transactions over `days`."""
    schema.create_sources(engine, "transactions", drop=True)
    names = ("product_code", "name", "category", "price_cents", "unit_cost_cents")
    with engine.begin() as conn:
        conn.execute(insert(schema.products), [dict(zip(names, p, strict=True)) for p in PRODUCTS])
        conn.execute(insert(schema.regions), [{"region_code": c, "name": n} for c, n in REGIONS])
    if engine.dialect.name == "sqlite":
        seq = f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows})"
        src, first = "s", f"'{FIRST_DAY}'"
    else:
        seq, src, first = "", f"generate_series(1, {rows}) AS s(n)", f"DATE '{FIRST_DAY}'"
    h = sqlfn.hash_expr
    day = sqlfn.add_days(engine, first, f"((n - 1) * {days} / {rows})")
    product = sqlfn.case_pick(h("n", 2), [p[0] for p in PRODUCTS])
    region = sqlfn.case_pick(h("n", 3), [r[0] for r in REGIONS])
    with engine.begin() as conn:
        conn.execute(
            text(f"""{seq}
            INSERT INTO transactions (txn_id, txn_date, occurred_at, user_id, product_code,
                                      region_code, quantity, revenue_cents)
            SELECT n, d, {sqlfn.add_seconds(engine, "d", f"{h('n', 4)} % 86400")},
                   {h("n", 1)} % 400000, {product}, {region}, 1 + {h("n", 5)} % 3,
                   999 * (1 + {h("n", 5)} % 3)
            FROM (SELECT n, {day} AS d FROM {src}) x""")
        )
    analyze = "ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE transactions"
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(analyze)


def _medians(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Each function's median time, runs interleaved (a change of load hits all alike)."""
    runs: list[list[float]] = [[] for _ in fns]
    for fn in fns:
        fn()
    for _ in range(repeat):
        for fn, times in zip(fns, runs, strict=True):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return [statistics.median(times) for times in runs]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="100k,1M", help="comma-separated sizes, e.g. 1M,10M")
    ap.add_argument("--days", type=int, default=SCALES["bench"].days)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--url", default=None)
    ap.add_argument("--schema", default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-counts-"))
    url = args.url or f"sqlite:///{work}/warehouse.db"
    name = args.schema or (None if url.startswith("sqlite") else f"bench_counts_{os.getpid()}")
    engine = engine_for(url, name)
    platform = Platform(engine, config=WarehouseConfig())
    pipe, part = resolve(PIPELINE, PARTITION, platform.config.fiscal_calendar)
    month_sql, params = bound(pipe.measure.source_sql), partition_params(part)
    print(f"{engine.url.render_as_string(hide_password=True)} schema={name} {PIPELINE} "
          f"{PARTITION}, medians of {args.repeat}")  # fmt: skip
    print(f"{'rows':>11} {'month rows':>10} {'validation ms':>13} {'COUNT ms':>9} {'ratio':>6} "
          f"{'table COUNT ms':>14} {'load':>5}")  # fmt: skip

    def baseline() -> int:
        with engine.connect() as conn:
            return conn.execute(month_sql, params).scalar_one()

    def table_count() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM transactions")).scalar_one()

    try:
        schema.create_warehouse(engine)
        for n in [_count(s) for s in args.rows.split(",")]:
            _generate(engine, n, args.days)
            run_transform(platform, pipe, part)
            counts = source_counts(platform, pipe, part)
            assert counts.matches and counts.source == baseline(), counts
            validation = lambda: source_counts(platform, pipe, part)  # noqa: E731
            v, b, t = _medians([validation, baseline, table_count], args.repeat)
            print(f"{n:>11,} {counts.source:>10,} {v * 1000:>13.1f} {b * 1000:>9.1f} "
                  f"{v / b:>6.2f} {t * 1000:>14.1f} {os.getloadavg()[0]:>5.2f}",
                  flush=True)  # fmt: skip
    finally:
        if name:
            schema.drop_schema(engine, name)
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
