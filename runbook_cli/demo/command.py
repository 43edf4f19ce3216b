"""`runbook demo`: the whole product in one command, on the embedded default."""

from __future__ import annotations

import typer

from foundation.console import quiet_console
from runbook_cli.stores import upgrade_stores


def demo(
    pipeline: str = typer.Option("aggregate_profit", "--pipeline", help="Pipeline to break"),
    partition: str = typer.Option("2026-03", "--partition", help="Partition to break"),
    fault: str = typer.Option("source_outage", "--fault", help="Failure kind to inject"),
    variant: str | None = typer.Option(None, "--variant", help="Fault variant"),
    approver: str | None = typer.Option(
        None, "--approve-as", help="Engineer the demo answers as (default: on call now)"
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Also show Prefect's own logs"),
) -> None:
    """Break a pipeline, recover it with its runbook, approve, republish, show the audit."""
    from runbook_cli.demo.errors import DemoError
    from runbook_cli.demo.story import run_demo  # deferred: Prefect loads only for the demo

    if not verbose:
        quiet_console()
    upgrade_stores()
    try:
        incident = run_demo(pipeline, partition, fault, variant, approver, typer.echo)
    except DemoError as exc:
        typer.echo(f"demo stopped: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"done: incident {incident} recovered and republished")
