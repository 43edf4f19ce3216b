"""`runbook pipeline ...`: run or check one pipeline partition, list pipelines, annotate."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

app = typer.Typer(help="The five reference pipelines.", no_args_is_help=True)
console = Console()


@app.command("list")
def list_pipelines() -> None:
    """Pipelines with their area, grain and whether investors see them."""
    from warehouse.pipelines import registry

    for p in registry.values():
        flag = "investor" if p.investor_reporting else ""
        console.print(f"{p.name:26} {p.area:11} {p.grain:13} {flag}")


@app.command()
def run(
    pipeline: str = typer.Argument(...),
    partition: str = typer.Option(..., "--partition"),
    local: bool = typer.Option(False, "--local", help="run without Prefect (no event, no logs)"),
) -> None:
    """Run one pipeline for one partition (as its Prefect flow unless --local)."""
    from foundation.engines import EngineCache
    from warehouse.failures import PipelineFailure

    try:
        if local:
            from warehouse.db import Platform
            from warehouse.runner import run_pipeline

            with EngineCache() as engines:
                result = run_pipeline(Platform.from_settings(engines=engines), pipeline, partition)
            console.print(f"rows {result.transform.rows}; report {result.outputs.report_csv}")
        else:
            from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

            from flows.pipelines import pipeline_flow
            from flows.runtime.prefect_client import prefect_client_context
            from foundation.settings import get_settings

            # heartbeats: if this process is killed, the pipeline crash watch notices
            beat = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: get_settings().operations.heartbeat_seconds}
            with prefect_client_context(), temporary_settings(updates=beat):
                console.print(asyncio.run(pipeline_flow(pipeline)(partition)))
    except PipelineFailure as failure:
        console.print(
            f"[red]FAILED[/red] kind={failure.kind} partition={failure.partition}: {failure.detail}"
        )
        raise typer.Exit(1) from None
    except Exception as exc:  # the flow's hook reported it as `unclassified`; one line here
        console.print(
            f"[red]FAILED[/red] kind=unclassified partition={partition}: "
            f"{type(exc).__name__}: {exc}"
        )
        raise typer.Exit(1) from None


@app.command()
def check(
    pipeline: str = typer.Argument(...), partition: str = typer.Option(..., "--partition")
) -> None:
    """Check a stored partition without rewriting it."""
    from foundation.engines import EngineCache
    from warehouse.db import Platform
    from warehouse.failures import PipelineFailure
    from warehouse.runner import validate_partition

    try:
        with EngineCache() as engines:
            results = validate_partition(
                Platform.from_settings(engines=engines), pipeline, partition, raise_on_failure=False
            )
        for r in results:
            console.print(
                f"{'ok  ' if r.passed else 'FAIL'} {r.name:28} {r.kind:20} {r.failing_count}"
            )
        from warehouse.checks import raise_for_checks

        raise_for_checks(pipeline, partition, results)
    except PipelineFailure as failure:
        console.print(f"[red]FAILED[/red] kind={failure.kind}: {failure.detail}")
        raise typer.Exit(1) from None
