"""`runbook audit INCIDENT`: the whole story of an incident, in time order."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.events.history import incident_duplicates
from governance.ledger import LedgerError
from runbook_cli.incidents import DbOption, open_ledger


def audit(
    incident: Annotated[int, typer.Argument(help="Incident id (see `runbook incidents`).")],
    db: DbOption = None,
) -> None:
    """Print everything the ledger holds about one incident: steps, approvals, publications."""
    ledger = open_ledger(db)
    try:
        head = ledger.incident(incident)
        state = ledger.current_state(incident)
        story = ledger.incident_story(incident)
        attached = len(ledger.attached_events(incident))
    except LedgerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        ledger.dispose()
    typer.echo(f"incident {head.id}: {head.pipeline} {head.kind} — now {state}")
    for line in story:
        typer.echo(f"{line.at:%Y-%m-%d %H:%M:%S}Z  {line.what:<22} {line.detail}")
    if head.event_id and head.partition:  # event-driven: say what became of its duplicates
        found = incident_duplicates(attached, head.pipeline, head.partition, head.opened_at)
        typer.echo(f"duplicates: {found.summary()}")
