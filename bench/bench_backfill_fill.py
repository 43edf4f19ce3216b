"""Filling events from backup files, against the database's own bulk load of the same files.

Usage: .venv/bin/python bench/bench_backfill_fill.py [--rows 200k,1M] [--days 546] [--url URL]
       [--schema S]
For each size, that many events spread over `--days` days are generated in SQL and written to
daily backup files by the product's writer (`warehouse.logs_storage.write_event_backup`).
Then, each in a fresh process on an empty `events` table:

- baseline: the database's own bulk load of the same files in one transaction — SQLite: the
  CSV rows through `executemany`; PostgreSQL: `COPY ... FROM STDIN` of each file;
- fill: `warehouse.recovery.restore_events_from_backup` for every day (the `backfill.event_backup`
  step's code: a day per transaction, insert-only).

Prints rows/s of both, fill over baseline (goal >= 0.8) and each process's peak RSS (goal:
flat as rows grow; the days stay fixed, so rows per day and file grow with the size).
A PostgreSQL run uses its own schema (default `bench_fill_<pid>`), dropped at the end.
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, text

from warehouse import schema, sqlfn
from warehouse.config import WarehouseConfig
from warehouse.db import Platform, engine_for
from warehouse.logs_storage import EVENT_COLUMNS, day_path, write_event_backup
from warehouse.recovery import restore_events_from_backup
from warehouse.scales import EVENT_TYPES, SCALES

FIRST_DAY = SCALES["bench"].first_day


def _count(text_value: str) -> int:
    """`200k`, `1M`, `10M` or a plain number."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text_value[-1].lower(), 1)
    return int(float(text_value.rstrip("kKmM")) * scale)


def _generate_events(engine: Engine, rows: int, days: int) -> None:
    """`rows` events over `days` days, ids in day order, with one INSERT ... SELECT."""
    if engine.dialect.name == "sqlite":
        seq = f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows})"
        src, first = "s", f"'{FIRST_DAY}'"
    else:
        seq, src, first = "", f"generate_series(1, {rows}) AS s(n)", f"DATE '{FIRST_DAY}'"
    day = sqlfn.add_days(engine, first, f"((n - 1) * {days} / {rows})")
    at = sqlfn.add_seconds(engine, "d", f"{sqlfn.hash_expr('n', 3)} % 86400")
    kind = sqlfn.case_pick(sqlfn.hash_expr("n", 5), EVENT_TYPES)
    with engine.begin() as conn:
        conn.execute(
            text(f"""{seq}
            INSERT INTO events (event_id, user_id, session_id, event_date, occurred_at, event_type)
            SELECT n, {sqlfn.hash_expr("n", 1)} % 400000, n / 6 + 1, d, {at}, {kind}
            FROM (SELECT n, {day} AS d FROM {src}) x""")
        )


def _empty_events(engine: Engine) -> None:
    schema.create_sources(engine, "events", drop=True)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _bulk_load(engine: Engine, files: list[str]) -> None:
    """The database's own bulk load of `files`, one transaction, no product code."""
    cols = ", ".join(EVENT_COLUMNS)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            import csv

            sql = f"INSERT INTO events ({cols}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
            for path in files:
                with gzip.open(path, "rt", newline="") as fh:
                    reader = csv.reader(fh)
                    next(reader)
                    cur.executemany(sql, reader)
        else:
            for path in files:
                with (
                    gzip.open(path, "rb") as fh,
                    cur.copy(
                        f"COPY events ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true)"
                    ) as copy,
                ):
                    while block := fh.read(1 << 20):
                        copy.write(block)
        raw.commit()
    finally:
        raw.close()


def _memory_kb(field: str) -> int:
    """`VmRSS` (now) or `VmHWM` (peak) of this process, from /proc (Linux)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def _run(mode: str, url: str, schema_name: str | None, root: str, days: list[date]) -> dict:
    """One timed load in this (fresh) process: seconds, rows in `events`, peak RSS."""
    engine = engine_for(url, schema_name)
    start_kb = _memory_kb("VmRSS")
    t0 = time.perf_counter()
    if mode == "baseline":
        _bulk_load(engine, [day_path(root, d, ".csv.gz") for d in days])
    else:
        platform = Platform(engine, config=WarehouseConfig(backup_storage_url=root))
        restore_events_from_backup(platform, days)
    seconds = time.perf_counter() - t0
    peak_kb = _memory_kb("VmHWM")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    engine.dispose()
    return {"seconds": seconds, "rows": rows, "peak_mb": peak_kb / 1024,
            "grew_mb": (peak_kb - start_kb) / 1024}  # fmt: skip


def _in_child(*args: object) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_run, args)


def _keep_last_of_each_day(engine: Engine) -> None:
    """Empty `events` but for each day's last event: a restore must skip it, insert the rest."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_kept"))
        conn.execute(
            text("""CREATE TABLE bench_kept AS SELECT * FROM events WHERE event_id IN
                             (SELECT MAX(event_id) FROM events GROUP BY event_date)""")
        )
    _empty_events(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events SELECT * FROM bench_kept"))
        conn.execute(text("DROP TABLE bench_kept"))


def _measure(n: int, args: argparse.Namespace, url: str, schema_name: str | None, root: str,
             engine: Engine) -> dict[str, dict]:  # fmt: skip
    """Best of `--repeat` alternating runs of baseline and fill, then one partial fill."""
    days = [FIRST_DAY + timedelta(i) for i in range(args.days)]
    _empty_events(engine)
    _generate_events(engine, n, args.days)
    write_event_backup(engine, root)
    _keep_last_of_each_day(engine)
    runs = {"partial": _in_child("fill", url, schema_name, root, days)}
    for _ in range(args.repeat):
        for mode in ("baseline", "fill"):
            _empty_events(engine)
            run = _in_child(mode, url, schema_name, root, days)
            best = runs.setdefault(mode, run)
            if run["seconds"] < best["seconds"]:
                runs[mode] = {**run, "peak_mb": max(run["peak_mb"], best["peak_mb"])}
    for mode, run in runs.items():
        assert run["rows"] == n, (mode, run["rows"], n)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="200k,1M", help="comma-separated sizes, e.g. 1M,5M,10M")
    ap.add_argument("--days", type=int, default=SCALES["bench"].days)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is shown")
    ap.add_argument("--url", default=None)
    ap.add_argument("--schema", default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-fill-"))
    url = args.url or f"sqlite:///{work}/events.db"
    schema_name = args.schema or (None if url.startswith("sqlite") else f"bench_fill_{os.getpid()}")
    engine = engine_for(url, schema_name)
    print(f"{engine.url.render_as_string(hide_password=True)} schema={schema_name} "
          f"days={args.days} best of {args.repeat}")  # fmt: skip
    print(f"{'rows':>11} {'bulk rows/s':>12} {'fill rows/s':>12} {'ratio':>6} "
          f"{'partial rows/s':>14} {'ratio':>6} {'bulk peak MB':>12} {'fill peak MB':>12} "
          f"{'load':>5}")  # fmt: skip
    try:
        for n in [_count(s) for s in args.rows.split(",")]:
            runs = _measure(n, args, url, schema_name, str(work / f"backup-{n}"), engine)
            b, f, p = runs["baseline"], runs["fill"], runs["partial"]
            print(f"{n:>11,} {n / b['seconds']:>12,.0f} {n / f['seconds']:>12,.0f} "
                  f"{b['seconds'] / f['seconds']:>6.2f} {n / p['seconds']:>14,.0f} "
                  f"{b['seconds'] / p['seconds']:>6.2f} {b['peak_mb']:>12.1f} "
                  f"{max(f['peak_mb'], p['peak_mb']):>12.1f} {os.getloadavg()[0]:>5.2f}",
                  flush=True)  # fmt: skip
    finally:
        if schema_name:
            schema.drop_schema(engine, schema_name)
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
