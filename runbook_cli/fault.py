"""`runbook fault ...`: inject a classified fault into a pipeline's partition, list, clear.

The records live in the warehouse database (package `faults`). Data faults (held-back rows,
nulls, wrong mappings, schema drift, missing or misaligned partitions) change the data and
act everywhere. Faults outside the data (outage, transform error, crash, storage quota,
publishing) act only in processes running with `RUNBOOK_FAULTS=on`: set it where the
pipelines and runbooks run (e.g. for `runbook serve`), not only here.
"""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Fault injection for the reference pipelines.", no_args_is_help=True)
console = Console()


@app.callback()
def _fault_layer() -> None:
    """Fault injection for the reference pipelines (the fault layer is installed here)."""
    from faults import install

    install()


@app.command()
def inject(
    kind: str = typer.Argument(..., help="source_outage, etl_job_failure, late_arriving_data, ..."),
    pipeline: str = typer.Option(..., "--pipeline", "-p"),
    partition: str = typer.Option(..., "--partition"),
    variant: str | None = typer.Option(None, help="see `runbook fault kinds`"),
) -> None:
    """Inject a fault; the next run (or check) of the partition fails with this kind."""
    from faults import inject as run
    from faults.catalog import OUTSIDE_THE_DATA
    from foundation.settings import get_settings
    from warehouse.db import Platform

    fault = run(Platform.from_settings(), kind, pipeline, partition, variant)
    console.print(
        f"injected #{fault.id} {fault.kind}/{fault.variant} into {fault.pipeline} {fault.partition}"
    )
    if fault.variant in OUTSIDE_THE_DATA and not get_settings().runbooks.faults:
        console.print(
            f"note: {fault.variant} acts only where the fault layer is installed: run the "
            "pipelines and runbooks with RUNBOOK_FAULTS=on"
        )


@app.command("list")
def list_faults() -> None:
    """The injected faults."""
    from faults import active_faults
    from warehouse.db import Platform

    for f in active_faults(Platform.from_settings().warehouse):
        console.print(f"#{f.id} {f.kind}/{f.variant} {f.pipeline} {f.partition} target={f.target}")


@app.command()
def clear(
    data: bool = typer.Option(False, "--data", help="also restore rows data faults changed"),
    pipeline: str | None = typer.Option(None, "--pipeline", "-p"),
) -> None:
    """Undo injected faults that live outside the data (with --data: all of them)."""
    from faults import clear_faults
    from warehouse.db import Platform

    cleared = clear_faults(Platform.from_settings(), data=data, pipeline=pipeline)
    console.print(f"cleared {len(cleared)} fault(s)")


@app.command()
def kinds() -> None:
    """Fault kinds and their variants (the first is the default)."""
    from faults.catalog import VARIANTS

    for kind, variants in VARIANTS.items():
        console.print(f"{kind:20} {', '.join(variants)}")
