"""`runbook incidents`: open incidents with owner, on-call, state and SLA time left;
`runbook incidents close N --reason ... --as NAME` ends one on record.

Closing is how a person ends an incident no run will finish (rejected, timed out, failed,
needs attention): it is recorded with who and why, and it releases the partition, so the
next failure of that partition opens a new incident at once instead of being attached.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from flows.runtime.run_services import open_command_services
from foundation.migrations import StoreNotReady
from foundation.visible import invisible_chars, visible
from governance.errors import LedgerError
from governance.ledger.records import RESOLVED_STATES, IncidentState
from governance.ledger.views import OpenIncident
from governance.models import GovernanceConfig
from governance.sla import format_time_left
from recovery_tasks.services import RunServices
from runbook_cli.oncall import GovernanceOption, load_config_or_exit, parse_at

DbOption = Annotated[
    str | None, typer.Option("--db", help="Audit database URL [RUNBOOK_AUDIT_URL, else warehouse].")
]


def command_services(db: str | None, governance: GovernanceConfig | None = None) -> RunServices:
    """A command's services on the ledger at --db (else the configured audit database);
    exit 1, saying which command sets it up, when that ledger is not migrated."""
    try:
        return open_command_services(audit_url=db, governance=governance)
    except StoreNotReady as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


app = typer.Typer(help="Open incidents, and closing one by hand.")


@app.callback(invoke_without_command=True)
def incidents(
    ctx: typer.Context,
    at: Annotated[
        str | None, typer.Option("--at", help="Evaluate at this moment (default now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
    governance: GovernanceOption = None,
) -> None:
    """Open incidents: pipeline, owner, who is on call, state and SLA time left."""
    if ctx.invoked_subcommand is not None:
        return
    config = load_config_or_exit(governance)
    now = parse_at(at, config) if at else datetime.now(UTC)
    with command_services(db, config) as services:
        board = services.ledger.open_incidents(config, now)
    if as_json:
        typer.echo(json.dumps([_as_dict(b) for b in board], indent=2))
        return
    if not board:
        typer.echo("no open incidents")
        return
    typer.echo(
        f"{'id':>5}  {'pipeline':<26} {'partition':<10} {'kind':<16} {'owner':<6} "
        f"{'on call':<8} {'state':<18} SLA"
    )
    for b in board:
        i = b.incident
        typer.echo(
            f"{i.id:>5}  {i.pipeline:<26} {i.partition or '-':<10} {i.kind:<16} "
            f"{_owner(b):<6} {_on_call(b):<8} {b.state:<18} "
            f"{format_time_left(b.sla.time_left) if b.sla else 'no SLA (pipeline unknown)'}"
        )


@app.command("close")
def close(
    incident_id: Annotated[int, typer.Argument(help="The incident to close.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")],
    who: Annotated[str, typer.Option("--as", help="Your name in governance.yaml.")],
    db: DbOption = None,
    governance: GovernanceOption = None,
) -> None:
    """Close an incident on record (who, why); its partition's next failure opens a new one."""
    config = load_config_or_exit(governance)
    if who not in config.engineers:
        typer.echo(f"error: {visible(who)!r} is not an engineer in governance.yaml", err=True)
        raise typer.Exit(1)
    if not reason.strip() or invisible_chars(reason, free_text=True):
        typer.echo("error: --reason must be readable text", err=True)
        raise typer.Exit(2)
    with command_services(db, config) as services:
        ledger = services.ledger
        try:
            state = ledger.incidents.current_state(incident_id)
        except LedgerError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        if IncidentState(state) in RESOLVED_STATES:
            typer.echo(f"error: incident {incident_id} is already {state}", err=True)
            raise typer.Exit(1)
        detail = {"reason": reason, "was": state}
        ledger.incidents.record_state(incident_id, IncidentState.CLOSED, actor=who, detail=detail)
    typer.echo(f"incident {incident_id} closed by {who} (was {state}): {reason}")


def _on_call(b: OpenIncident) -> str:
    if b.on_call is None:
        return "-"  # before the rotation starts
    return f"{b.on_call.primary or '(gap)'}/{b.on_call.backup or '(gap)'}"


def _owner(b: OpenIncident) -> str:
    return b.owners[0] if b.owners else "?"


def _as_dict(b: OpenIncident) -> dict[str, object]:
    i = b.incident
    return {
        "id": i.id,
        "pipeline": i.pipeline,
        "partition": i.partition,
        "kind": i.kind,
        "opened_at": i.opened_at.isoformat(),
        "owners": list(b.owners),
        "on_call": {
            "primary": b.on_call.primary if b.on_call else None,
            "backup": b.on_call.backup if b.on_call else None,
        },
        "state": b.state,
        "sla_deadline": b.sla.deadline.isoformat() if b.sla else None,
        "sla_seconds_left": b.sla.time_left.total_seconds() if b.sla else None,
        "sla_breached": b.sla.breached if b.sla else None,
    }
