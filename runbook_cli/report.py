"""`runbook report`: incident metrics from the audit ledger, per pipeline and failure kind."""

from __future__ import annotations

from typing import Annotated

import typer

from foundation.durations import parse_duration
from governance.reporting.metrics import incident_report
from governance.reporting.render import FORMATS, render_report
from runbook_cli.incidents import DbOption, command_services
from runbook_cli.oncall import GovernanceOption, load_config_or_exit, parse_at


def report(
    since: Annotated[
        str, typer.Option("--since", help="How far back incidents were opened, e.g. 7d, 30d, 12h.")
    ] = "30d",
    fmt: Annotated[str, typer.Option("--format", help="table, markdown or json.")] = "table",
    at: Annotated[
        str | None, typer.Option("--at", help="The report's now (default now): ISO date or time.")
    ] = None,
    db: DbOption = None,
    governance: GovernanceOption = None,
) -> None:
    """Incidents, times to detect, evidence, first answer, approval and republish (median and
    worst, from the failure), SLA met/missed, escalations and refusals."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}", param_hint="--format")
    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    config = load_config_or_exit(governance)
    until = parse_at(at, config)
    with command_services(db, config) as services:
        result = incident_report(services.ledger.engine, config, until - window, until)
    typer.echo(render_report(result, fmt), nl=False)
