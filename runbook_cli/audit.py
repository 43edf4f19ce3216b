"""`runbook audit INCIDENT`: the whole story of an incident, in time order."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.run_services import open_command_services
from governance.ledger import LedgerError
from runbook_cli.incidents import DbOption


def audit(
    incident: Annotated[int, typer.Argument(help="Incident id (see `runbook incidents`).")],
    db: DbOption = None,
) -> None:
    """Print everything the ledger holds about one incident: steps, approvals, publications."""
    with open_command_services(audit_url=db) as services:
        ledger = services.ledger
        try:
            head = ledger.incident(incident)
            state = ledger.current_state(incident)
            story = ledger.incident_story(incident)
        except LedgerError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"incident {head.id}: {head.pipeline} {head.kind} — now {state}")
    for line in story:
        typer.echo(f"{line.at:%Y-%m-%d %H:%M:%S}Z  {line.what:<22} {line.detail}")
