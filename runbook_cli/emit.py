"""`runbook emit`: report a pipeline failure by hand, as an external job would.

The event is delivered with a request whose answer is checked (`POST /api/events`, 204): a
missing API URL, an unreachable server or a 401 ends the command with exit status 1 and one
line; only an event the server took is reported as sent. A long detail is cut with a note.
The event is checked as the event door will check it (known pipeline, partition in its grain,
not in the future, no control characters) before it is sent: a refused event exits 2.
"""

from __future__ import annotations

import asyncio
import json

import typer

from flows.events.contract import InvalidEventError, check_failure_event
from flows.events.emit import DeliveryError, deliver, failure_event
from governance.config import load_governance


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
    event = failure_event(pipeline, kind, partition, detail, flow_run_id=flow_run_id)
    try:
        check_failure_event(
            event.model_dump(mode="json"), pipeline, frozenset(load_governance().pipelines)
        )
    except InvalidEventError as exc:
        typer.echo(f"error: the event door would refuse this event: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        asyncio.run(deliver([event]))
    except DeliveryError as exc:
        typer.echo(f"error: event not delivered: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"id": str(event.id), **event.payload}))
