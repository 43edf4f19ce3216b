"""Sample-data generation throughput at a scale, against the database's raw INSERT ... SELECT.

Usage: .venv/bin/python bench/bench_data_generate.py [--scale bench] [--url URL] [--schema S]
Prints rows/s per step and the ratio of generation time per row to a baseline measured in
the same run: a trivial INSERT ... SELECT of as many integer rows as there are events.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from itertools import pairwise

from sqlalchemy import text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="bench")
    ap.add_argument("--url", default=None)
    ap.add_argument("--schema", default=None)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    data_dir = os.environ.setdefault("RUNBOOK_DATA_DIR", tempfile.mkdtemp(prefix="bench-data-"))
    from foundation.settings import get_settings
    from warehouse.config import WarehouseConfig
    from warehouse.db import Platform, engine_for
    from warehouse.generate import generate

    url = args.url or f"sqlite:///{data_dir}/warehouse.db"
    engine = engine_for(url, args.schema)
    platform = Platform(engine, config=WarehouseConfig.from_settings(get_settings()))
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    counts = generate(
        platform, args.scale, args.seed, progress=lambda s: marks.append((s, time.perf_counter()))
    )
    total_s = time.perf_counter() - start
    marks.append(("end", time.perf_counter()))
    rows = sum(counts.values())
    print(f"scale={args.scale} url={engine.url.render_as_string(hide_password=True)}")
    for (step, t0), (_, t1) in pairwise(marks):
        print(f"  {step:16} {t1 - t0:8.2f} s")
    events = counts["events"]
    print(f"rows {rows:,} (events {events:,}) in {total_s:.1f} s = {rows / total_s:,.0f} rows/s")
    base_s = _baseline(engine, counts["events"])
    print(f"baseline: raw INSERT ... SELECT of {counts['events']:,} rows in {base_s:.1f} s"
          f" = {counts['events'] / base_s:,.0f} rows/s")  # fmt: skip
    ratio = (total_s / rows) / (base_s / events)
    print(f"ratio (generation s/row over baseline s/row): {ratio:.2f}")


def _baseline(engine, n: int) -> float:
    """Insert `n` integer rows with one recursive/generate_series INSERT ... SELECT."""
    series = (
        "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s"
        f" WHERE n < {n - 1}) SELECT n, n % 97, n % 7 FROM s"
        if engine.dialect.name == "sqlite"
        else f"SELECT n, n % 97, n % 7 FROM generate_series(0, {n - 1}) AS s(n)"
    )
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_baseline"))
        conn.execute(
            text("CREATE TABLE bench_baseline (id BIGINT PRIMARY KEY, a INTEGER, b INTEGER)")
        )
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO bench_baseline (id, a, b) {series}"))
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_baseline"))
    return elapsed


if __name__ == "__main__":
    main()
