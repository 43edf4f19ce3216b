"""`runbook retry INCIDENT`: run an open incident's runbook again, after a person fixed the cause.

Some causes only a person can fix (bad data at the source, a dropped column, a source or
portal that never came back within the budget). Once fixed, `runbook retry` runs the
incident's runbook for the same failure event, under the same incident and therefore the
same SLA clock; the ledger records who retried and why. An approval of the very same report
bytes given earlier in the incident counts again, and the publication's idempotency key
(incident, partition, sha256) keeps it to one publication.
"""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from flows.events.contract import PARTITION_LABEL
from governance.ledger.records import RESOLVED_STATES, Incident


def retry(
    incident_id: int = typer.Argument(..., help="The open incident (see `runbook incidents`)"),
    who: str | None = typer.Option(
        None, "--as", help="Who retries (recorded; they cannot approve this run)"
    ),
    reason: str = typer.Option("", "--reason", help="What was fixed (recorded in the ledger)"),
) -> None:
    """Run the incident's runbook again under the same incident and SLA clock."""
    from flows.language.errors import RunbookError
    from flows.runtime.compiler import compile_named
    from governance.errors import LedgerError
    from governance.incidents.reference import Retry
    from governance.ledger.audit_ledger import Ledger

    with Ledger.from_settings() as ledger:
        try:
            incident = ledger.incidents.get(incident_id)
            state = ledger.incidents.current_state(incident_id)
        except LedgerError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    if state not in RESOLVED_STATES and (caught_up := _reconciled(incident_id)) is not None:
        typer.echo(
            f"incident {incident_id}: the portal already holds its approved release (version "
            f"{caught_up}); recorded from the portal's receipts; {state} -> resolved"
        )
        return
    if state in RESOLVED_STATES:
        typer.echo(f"error: incident {incident_id} is already {state}: nothing to retry", err=True)
        raise typer.Exit(1)
    if not incident.runbook:
        typer.echo(f"error: incident {incident_id} names no runbook to run again", err=True)
        raise typer.Exit(1)
    try:
        compiled = compile_named(incident.runbook)
    except RunbookError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"retrying incident {incident_id} ({incident.kind}, {state}) with {compiled.name}")
    final = asyncio.run(
        compiled.flow(
            event=original_event(incident),
            incident=Retry(incident_id, who, reason or None).as_parameter(),
            triggered_by=who,
            return_state=True,
        )
    )
    typer.echo(f"{compiled.name}: {final.name}" + (f" - {final.message}" if final.message else ""))
    if not final.is_completed():
        raise typer.Exit(1)


def _reconciled(incident_id: int) -> int | None:
    """The portal's version now on record if the incident's publication only lacked its
    receipt in the ledger (the ledger was away mid-publish); else None."""
    from flows.operations.publication_reconcile import reconcile
    from flows.runtime.run_services import open_command_services

    with open_command_services() as services:
        done = reconcile(services, incident_id)
    return next((r.version for r in done if r.version is not None), None)


def original_event(incident: Incident) -> dict[str, Any]:
    """The event the incident's first run was started with (from Prefect), else rebuilt.

    The rebuilt event carries what the ledger knows: the kind, the partition, the time.
    """
    from prefect.client.orchestration import get_client

    async def read() -> dict[str, Any] | None:
        async with get_client() as client:
            run = await client.read_flow_run(incident.flow_run_id)  # type: ignore[arg-type]
        event = (run.parameters or {}).get("event")
        return event if isinstance(event, dict) and event else None

    if incident.flow_run_id:
        try:
            found = asyncio.run(read())
        except Exception:  # the first run's server may be gone; the ledger still knows enough
            found = None
        if found:
            return found
    return {
        "id": incident.event_id,
        "event": "pipeline.failed",
        "occurred": incident.opened_at.isoformat(),
        "resource": {
            "prefect.resource.id": f"pipeline.{incident.pipeline}",
            PARTITION_LABEL: incident.partition,
        },
        "payload": {
            "kind": incident.kind,
            "partition": incident.partition,
            "pipeline": incident.pipeline,
        },
    }
