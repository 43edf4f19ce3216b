"""Filling events from backup files, against the database's own bulk load of the same files.

Usage: .venv/bin/python bench/bench_backfill_fill.py [--rows 500k,1M] [--days 546] [--repeat 2]
       [--concurrency 1] [--url URL] [--schema S]
For each size, that many events spread over `--days` days are generated in SQL and written to
daily backup files by the product's writer (`warehouse.logs_storage.write_event_backup`). The
days stay fixed, so rows per day (and per file) grow with the size. Each load then runs in a
fresh process:

- bulk (the baseline): the database's own bulk load of the same files into an empty `events`
  table, one transaction — SQLite: the CSV rows through `executemany`; PostgreSQL:
  `COPY ... FROM STDIN` of each file;
- fill: `warehouse.event_restore.restore_events_from_backup` for every day, into an empty table
  (the `backfill.event_backup` step's code, `warehouse.event_restore` on the one fill path
  `warehouse.fill.fill_by_day`: a day per transaction, insert-only), on one connection like
  the baseline unless `--concurrency` says more (PostgreSQL only; SQLite has one writer);
- partial: the same fill when each day's last event is already there (late rows that did
  arrive), so every day's staged keys are checked against the table;
- heap: the fill once more under tracemalloc, for its peak of Python memory.

Prints rows/s and fill and partial over bulk (goal >= 0.3: the fill validates every row in
Python before staging it, which the unchecked bulk load does not), by wall time and by CPU time
(this process plus, on PostgreSQL, its server process: steadier than wall time on a busy
machine), the best of `--repeat` alternating runs of bulk and fill and one partial run; then
the peak RSS of the bulk and fill processes (SQLite's is mostly its page cache, `cache_size`
200 MB) and the fill's Python heap peak (goal: flat as rows grow). A PostgreSQL run uses its
own schema (default `bench_fill_<pid>`), dropped at the end.
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
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, text

from warehouse import schema, sqlfn
from warehouse.config import WarehouseConfig
from warehouse.db import Platform, engine_for
from warehouse.event_restore import restore_events_from_backup
from warehouse.logs_storage import EVENT_COLUMNS, day_path, write_event_backup
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
    day = sqlfn.add_days(engine, first, f"((CAST(n AS BIGINT) - 1) * {days} / {rows})")
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


def _cpu_seconds(backend_pid: int | None) -> float:
    """CPU time of this process plus, on PostgreSQL, of its server process (same machine)."""
    if backend_pid is None:
        return time.process_time()
    with open(f"/proc/{backend_pid}/stat") as fh:
        utime, stime = fh.read().rsplit(")", 1)[1].split()[11:13]
    return time.process_time() + (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def _run(
    mode: str, url: str, schema_name: str | None, root: str, days: list[date], concurrency: int
) -> dict:
    """One timed load in this (fresh) process: seconds, CPU seconds, rows, peak memory.

    The engine's one pooled connection is opened first, so the load uses that same server
    process and its CPU time can be read from /proc.
    """
    engine = engine_for(url, schema_name)
    with engine.connect() as conn:
        pid = None if engine.dialect.name == "sqlite" else conn.exec_driver_sql(
            "SELECT pg_backend_pid()").scalar_one()  # fmt: skip
    start_kb = _memory_kb("VmRSS")
    cpu0 = _cpu_seconds(pid)
    if mode == "traced":
        tracemalloc.start()
    t0 = time.perf_counter()
    if mode == "baseline":
        _bulk_load(engine, [day_path(root, d, ".csv.gz") for d in days])
    else:
        platform = Platform(engine, config=WarehouseConfig(backup_storage_url=root))
        restore_events_from_backup(platform, days, concurrency=concurrency)
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds(pid) - cpu0
    py_peak = tracemalloc.get_traced_memory()[1] if mode == "traced" else 0
    tracemalloc.stop()
    peak_kb = _memory_kb("VmHWM")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "peak_mb": peak_kb / 1024,
            "grew_mb": (peak_kb - start_kb) / 1024, "py_peak_mb": py_peak / 2**20}  # fmt: skip


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
    each = (url, schema_name, root, days, args.concurrency)
    runs = {"partial": _in_child("fill", *each)}
    _empty_events(engine)
    runs["traced"] = _in_child("traced", *each)
    for _ in range(args.repeat):
        for mode in ("baseline", "fill"):
            _empty_events(engine)
            run = _in_child(mode, *each)
            best = runs.setdefault(mode, run)
            runs[mode] = {**run, **{k: min(run[k], best[k]) for k in ("seconds", "cpu")},
                          "peak_mb": max(run["peak_mb"], best["peak_mb"])}  # fmt: skip
    for mode, run in runs.items():
        assert run["rows"] == n, (mode, run["rows"], n)
    return runs


def _line(n: int, runs: dict[str, dict]) -> str:
    """Rows/s; ratios to the bulk load by wall time and by CPU time (client plus server)."""
    b, f, p = runs["baseline"], runs["fill"], runs["partial"]
    rss = max(f["peak_mb"], p["peak_mb"])
    return (f"{n:>10,} | {n / b['seconds']:>11,.0f} | {n / f['seconds']:>11,.0f} "
            f"{b['seconds'] / f['seconds']:>5.2f} {b['cpu'] / f['cpu']:>5.2f} | "
            f"{n / p['seconds']:>14,.0f} {b['seconds'] / p['seconds']:>5.2f} "
            f"{b['cpu'] / p['cpu']:>5.2f} | {b['peak_mb']:>11.0f} {rss:>5.0f} | "
            f"{runs['traced']['py_peak_mb']:>7.1f} | {os.getloadavg()[0]:>4.1f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="500k,1M", help="comma-separated sizes, e.g. 1M,5M,10M")
    ap.add_argument("--days", type=int, default=SCALES["bench"].days)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best is shown")
    ap.add_argument("--concurrency", type=int, default=1, help="days filled at once (PostgreSQL)")
    ap.add_argument("--url", default=None)
    ap.add_argument("--schema", default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-fill-"))
    url = args.url or f"sqlite:///{work}/events.db"
    schema_name = args.schema or (None if url.startswith("sqlite") else f"bench_fill_{os.getpid()}")
    engine = engine_for(url, schema_name)
    print(f"{engine.url.render_as_string(hide_password=True)} schema={schema_name} "
          f"days={args.days} concurrency={args.concurrency} best of {args.repeat}")  # fmt: skip
    print(f"{'rows':>10} | {'bulk rows/s':>11} | {'fill rows/s':>11} {'ratio':>5} {'cpu':>5} | "
          f"{'partial rows/s':>14} {'ratio':>5} {'cpu':>5} | {'RSS MB bulk':>11} {'fill':>5} | "
          f"{'heap MB':>7} | {'load':>4}")  # fmt: skip
    try:
        for n in [_count(s) for s in args.rows.split(",")]:
            runs = _measure(n, args, url, schema_name, str(work / f"backup-{n}"), engine)
            print(_line(n, runs), flush=True)
    finally:
        if schema_name:
            schema.drop_schema(engine, schema_name)
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
