"""`runbook emit`: report a pipeline failure by hand, as an external job would.

The event is delivered with a request whose answer is checked (`POST /api/events`, 204): a
missing API URL, an unreachable server or a 401 ends the command with exit status 1 and one
line; only an event the server took is reported as sent. A long detail is cut with a note.
"""

from __future__ import annotations

import asyncio
import json

import typer

from flows.events.emit import DeliveryError, deliver, failure_event
from warehouse.failures import FailureKind


def emit(
    pipeline: str = typer.Argument(..., help="Pipeline that failed, e.g. aggregate_profit"),
    kind: str = typer.Option(..., "--kind", help="Failure kind, e.g. etl_job_failure"),
    partition: str = typer.Option(..., "--partition", help="Partition key, e.g. 2026-10"),
    detail: str = typer.Option("reported by hand", "--detail", help="What failed (cut if long)"),
    flow_run_id: str | None = typer.Option(
        None, "--flow-run", help="The failed flow run, so the recovery reads its logs"
    ),
) -> None:
    """Deliver a `pipeline.failed` event; exit 1 unless the Prefect server took it."""
    try:
        FailureKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in FailureKind)
        typer.echo(f"error: unknown kind {kind!r}; known: {known}", err=True)
        raise typer.Exit(2) from None
    event = failure_event(pipeline, kind, partition, detail, flow_run_id=flow_run_id)
    try:
        asyncio.run(deliver([event]))
    except DeliveryError as exc:
        typer.echo(f"error: event not delivered: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"id": str(event.id), **event.payload}))
