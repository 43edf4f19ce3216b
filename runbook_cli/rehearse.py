"""`runbook rehearse`: the game day in one command, on scratch copies of everything.

`runbook rehearse PIPELINE --fault KIND [--variant V] [--scenario S]` plays those cells and
tells the story; `runbook rehearse --all` plays the whole matrix (or the part the filters
leave) in worker processes and prints it as a table. Either way it exits 1 when a cell does
worse than `rehearsal/expectations.yaml` declares. Nothing configured is touched: the data,
ledger, portal and Prefect server are all scratch (a Prefect server is started unless
`--prefect-api` names one), so a rehearsal's failure events never reach real deployments.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from foundation.durations import parse_duration


def rehearse(
    pipeline: str | None = typer.Argument(None, help="Pipeline to rehearse (all with --all)"),
    fault: str | None = typer.Option(None, "--fault", help="Failure kind, e.g. source_outage"),
    variant: str | None = typer.Option(
        None, "--variant", help="Fault variant (default: the kind's first; all with --all)"
    ),
    scenario: list[str] = typer.Option(
        [],
        "--scenario",
        help="fixed, persisting, arrives-later or first-publication (repeatable; default all)",
    ),
    everything: bool = typer.Option(False, "--all", help="Every cell the filters leave"),
    jobs: int = typer.Option(2, "--jobs", min=1, max=16, help="Worker processes for --all"),
    sla: str = typer.Option("24s", "--sla", help="Each pipeline's SLA, compressed"),
    later_after: str = typer.Option(
        "3s", "--later-after", help="When an arrives-later cause goes away"
    ),
    backend: str = typer.Option("sqlite", "--backend", help="sqlite or postgres"),
    postgres_url: str | None = typer.Option(None, "--postgres-url", help="For --backend postgres"),
    prefect_api: str | None = typer.Option(
        None, "--prefect-api", help="Use this Prefect API instead of a scratch server"
    ),
) -> None:
    """Break pipelines on purpose in scratch copies, let the runbooks recover, compare."""
    from rehearsal.cells import select_cells
    from rehearsal.expectations import load_expectations

    if not everything and (pipeline is None or fault is None):
        typer.echo("error: name a PIPELINE and --fault KIND, or use --all", err=True)
        raise typer.Exit(2)
    kinds = [fault] if fault else None
    variants = [variant] if variant else (None if everything else _first_variant(fault))
    cells = select_cells([pipeline] if pipeline else None, kinds, variants, scenario or None)
    if not cells:
        typer.echo("error: no cell matches; see `runbook fault kinds`", err=True)
        raise typer.Exit(2)
    expected = load_expectations()
    with _sigterm_unwinds():
        results = _play(
            cells, everything, jobs, sla, later_after, backend, postgres_url, prefect_api
        )
    _report(results, expected, everything)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM exits through the cleanup: workers, scratch data and scratch server are stopped.

    Python's default for SIGTERM ends the process on the spot, leaving the scratch Prefect
    server (its own process group) and the worker processes behind.
    """

    def stop(signum: int, _frame: object) -> None:
        typer.echo("stopping: SIGTERM; removing the scratch data and server", err=True)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _first_variant(fault: str | None) -> list[str] | None:
    from faults.catalog import variant_for

    try:
        return [variant_for(fault, None)[1]] if fault else None
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _play(
    cells: list,
    everything: bool,
    jobs: int,
    sla: str,
    later_after: str,
    backend: str,
    postgres_url: str | None,
    prefect_api: str | None,
) -> list:
    import faults
    from foundation.console import quiet_console
    from rehearsal.matrix import run_cells
    from rehearsal.play import Options
    from rehearsal.prefect_api import prefect_api as api
    from rehearsal.workspace import build_template, remove_template

    if backend not in ("sqlite", "postgres"):
        typer.echo(f"error: --backend {backend!r}: use sqlite or postgres", err=True)
        raise typer.Exit(2)
    faults.install()
    options = Options(later_after=parse_duration(later_after).total_seconds())
    started = time.monotonic()
    results = []
    with api(prefect_api) as api_url:
        typer.echo(f"Prefect API {api_url}; building the scratch data")
        quiet_console()
        template = build_template(parse_duration(sla), backend, postgres_url)  # type: ignore[arg-type]
        try:
            say = (lambda _m: None) if everything else typer.echo
            played = run_cells(
                cells, template, options, jobs=jobs if everything else 1, api_url=api_url, say=say
            )
            for result in played:
                results.append(result)
                typer.echo(
                    f"[{len(results)}/{len(cells)}] {result.outcome:<11} "
                    f"{result.seconds:5.1f}s  {result.cell.label}"
                )
        finally:
            remove_template(template)
    typer.echo(f"{len(results)} cells in {time.monotonic() - started:.0f}s")
    return results


def _report(results: list, expected: object, everything: bool) -> None:
    from rehearsal.table import render, worse_than_declared

    if everything or len(results) > 1:
        typer.echo(render(results, expected))  # type: ignore[arg-type]
    else:
        for r in results:
            if r.story:
                typer.echo(f"{r.cell.label}: the story of scratch incident {r.incident_id}:")
                typer.echo("\n".join(f"  {line}" for line in r.story))
            typer.echo(f"{r.outcome}: {r.reason}")
    if worse_than_declared(results, expected):  # type: ignore[arg-type]
        raise typer.Exit(1)
