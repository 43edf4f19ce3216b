"""`runbook deployments`, `runbook serve` and `runbook emit`: the event-driven side."""

from __future__ import annotations

import json

import typer

from flows.language.errors import RunbookValidationError
from flows.runbook_library import validate_files
from runbook_cli.stores import upgrade_ledger_store

SERVE_HELP = "Seconds between the runner's checks for new runs (Prefect's default is 10)"


def _valid_runbooks() -> list:
    reports = validate_files()
    broken = [p for r in reports for p in r.problems]
    if broken:
        typer.echo(RunbookValidationError(broken).render(), err=True)
        typer.echo("nothing deployed: fix the runbooks above first", err=True)
        raise typer.Exit(1)
    return [r.runbook for r in reports]


def deployments(
    write: bool = typer.Option(False, "--write", help="Write prefect.yaml at the top level"),
    automations: bool = typer.Option(
        False, "--automations", help="Also create or update the server's crash watch"
    ),
) -> None:
    """Print (or write) prefect.yaml: every runbook's deployment and event triggers."""
    from deployments.prefect_yaml import render_prefect_yaml, write_prefect_yaml

    runbooks = _valid_runbooks()
    if automations:
        _ensure_crash_watch()
    if write:
        typer.echo(f"wrote {write_prefect_yaml(runbooks)}")
    else:
        typer.echo(render_prefect_yaml(runbooks), nl=False)


def serve(poll: int = typer.Option(2, "--poll", help=SERVE_HELP)) -> None:
    """Serve every runbook's deployment here: events start recoveries until Ctrl-C."""
    import os

    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", str(poll))
    from prefect import serve as prefect_serve

    from deployments.build import runbook_deployment
    from flows.sla_watch import INTERVAL_SECONDS, sla_watch

    runbooks = _valid_runbooks()
    upgrade_ledger_store()
    typer.echo(
        f"serving {len(runbooks)} runbooks: {', '.join(r.name for r in runbooks)}"
        f" and the SLA watch (every {INTERVAL_SECONDS} s)"
    )
    watch = sla_watch.to_deployment(name="sla-watch", interval=INTERVAL_SECONDS)
    # Crash convergence: heartbeats, the crash watch, and the incident sync (flows.crash_watch)
    from flows.crash_watch import HEARTBEAT_SECONDS
    from flows.incident_sync import sync_deployment

    _ensure_crash_watch()
    deployments = [*[runbook_deployment(r) for r in runbooks], watch, sync_deployment()]
    prefect_serve(*deployments, heartbeat_seconds=HEARTBEAT_SECONDS)


def _ensure_crash_watch() -> None:
    """Create or update the automation marking runbook runs Crashed when heartbeats stop."""
    import asyncio

    from flows.crash_watch import HEARTBEAT_SECONDS, SILENCE_SECONDS, ensure_crash_watch

    done = asyncio.run(ensure_crash_watch())
    typer.echo(
        f"crash watch {done}: runs send heartbeats every {HEARTBEAT_SECONDS} s and are marked "
        f"Crashed after {SILENCE_SECONDS} s without one; the incident sync retries them once",
        err=True,
    )


def emit(
    pipeline: str = typer.Argument(..., help="Pipeline that failed, e.g. aggregate_profit"),
    kind: str = typer.Option(..., "--kind", help="Failure kind, e.g. etl_job_failure"),
    partition: str = typer.Option(..., "--partition", help="Partition key, e.g. 2026-10"),
    detail: str = typer.Option("reported by hand", "--detail"),
) -> None:
    """Emit a `pipeline.failed` event, as an external job reporting an outage would."""
    from prefect.events import emit_event

    from warehouse.failures import FailureKind

    try:
        FailureKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in FailureKind)
        typer.echo(f"error: unknown kind {kind!r}; known: {known}", err=True)
        raise typer.Exit(2) from None
    payload = {"kind": kind, "partition": partition, "pipeline": pipeline, "detail": detail}
    event = emit_event(
        event="pipeline.failed",
        resource={"prefect.resource.id": f"pipeline.{pipeline}"},
        payload=payload,
    )
    typer.echo(json.dumps({"id": str(event.id) if event else None, **payload}))


def register(app: typer.Typer) -> None:
    """Mount the commands at the top level of `runbook`."""
    for command in (deployments, serve, emit):
        app.command(command.__name__)(command)
