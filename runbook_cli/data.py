"""`runbook data ...`: generate sample data, migrate the warehouse and ledger, show counts."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from runbook_cli.stores import upgrade_ledger_store

app = typer.Typer(help="Sample data and the warehouse schema.", no_args_is_help=True)
console = Console()


@app.command()
def generate(
    scale: str = typer.Option("small", help="small (seconds) or bench (over 10M events)"),
    seed: int = typer.Option(7, help="same seed, same data"),
) -> None:
    """Replace the sources with deterministic sample data and empty the warehouse."""
    from foundation.engines import EngineCache
    from warehouse.db import Platform
    from warehouse.generate import generate as run

    steps = ["plan", "registrations", "sessions", "events", "transactions", "manifests",
             "activity logs", "event backup"]  # fmt: skip
    start = time.perf_counter()
    with (
        Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar,
        EngineCache() as engines,
    ):
        task = bar.add_task("generating", total=len(steps))
        counts = run(Platform.from_settings(engines=engines), scale, seed,
                     progress=lambda s: bar.update(task, description=s, advance=1))  # fmt: skip
    elapsed = time.perf_counter() - start
    upgrade_ledger_store()  # the audit ledger lives beside the warehouse by default
    for table, n in counts.items():
        console.print(f"{table:28} {n:>12,}")
    total = sum(counts.values())
    console.print(f"{total:,} rows in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s)")


@app.command()
def migrate(revision: str = typer.Argument("head")) -> None:
    """Apply the warehouse's Alembic migrations, and bring the audit ledger to its head."""
    from foundation.engines import EngineCache
    from warehouse.db import Platform
    from warehouse.schema import migrate as run

    with EngineCache() as engines:
        run(Platform.from_settings(engines=engines).warehouse, revision)
    console.print(f"warehouse at {revision}")
    console.print(f"audit ledger at {upgrade_ledger_store()}")


@app.command()
def counts() -> None:
    """Rows in every source table."""
    from foundation.engines import EngineCache
    from warehouse.db import Platform
    from warehouse.generate import row_counts

    with EngineCache() as engines:
        counted = row_counts(Platform.from_settings(engines=engines))
    for table, n in counted.items():
        console.print(f"{table:28} {n:>12,}")
