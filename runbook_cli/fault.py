"""`runbook fault ...`: inject a classified fault into a pipeline's partition, list, clear."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Fault injection for the reference pipelines.", no_args_is_help=True)
console = Console()


@app.command()
def inject(
    kind: str = typer.Argument(..., help="source_outage, etl_job_failure, late_arriving_data, ..."),
    pipeline: str = typer.Option(..., "--pipeline", "-p"),
    partition: str = typer.Option(..., "--partition"),
    variant: str | None = typer.Option(None, help="see `runbook fault kinds`"),
) -> None:
    """Inject a fault; the next run (or check) of the partition fails with this kind."""
    from warehouse.db import Platform
    from warehouse.faults import inject as run

    fault = run(Platform.from_settings(), kind, pipeline, partition, variant)
    console.print(
        f"injected #{fault.id} {fault.kind}/{fault.variant} into {fault.pipeline} {fault.partition}"
    )


@app.command("list")
def list_faults() -> None:
    """The injected faults."""
    from warehouse.db import Platform
    from warehouse.faults import active_faults

    for f in active_faults(Platform.from_settings().warehouse, None, None):
        console.print(f"#{f.id} {f.kind}/{f.variant} {f.pipeline} {f.partition} target={f.target}")


@app.command()
def clear(
    data: bool = typer.Option(False, "--data", help="also restore rows data faults changed"),
    pipeline: str | None = typer.Option(None, "--pipeline", "-p"),
) -> None:
    """Undo injected faults that live outside the data (with --data: all of them)."""
    from warehouse.db import Platform
    from warehouse.faults import clear_faults

    cleared = clear_faults(Platform.from_settings(), data=data, pipeline=pipeline)
    console.print(f"cleared {len(cleared)} fault(s)")


@app.command()
def kinds() -> None:
    """Fault kinds and their variants (the first is the default)."""
    from warehouse.fault_catalog import VARIANTS

    for kind, variants in VARIANTS.items():
        console.print(f"{kind:20} {', '.join(variants)}")
