"""`runbook audit INCIDENT`: the whole story of an incident, in time order.

`--markdown` writes the post-incident report instead (timeline, evidence, who approved, who
was told, what was published, the SLA used): to stdout, or to `--out FILE`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from flows.events.history import counted_events, incident_duplicates
from governance.ledger.audit_ledger import Ledger, LedgerError
from governance.reporting.postmortem import post_incident_markdown
from runbook_cli.incidents import DbOption, command_services
from runbook_cli.oncall import GovernanceOption, load_config_or_exit


def audit(
    incident: Annotated[int, typer.Argument(help="Incident id (see `runbook incidents`).")],
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Write the post-incident report as Markdown.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --markdown: the file to write.")
    ] = None,
    db: DbOption = None,
    governance: GovernanceOption = None,
) -> None:
    """Print everything the ledger holds about one incident: steps, approvals, publications."""
    config = load_config_or_exit(governance) if markdown else None
    with command_services(db, config) as services:
        try:
            text = (
                post_incident_markdown(services.ledger, config, incident, datetime.now(UTC))
                if config is not None
                else _story(services.ledger, incident)
            )
        except LedgerError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    if out is not None and markdown:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


def _story(ledger: Ledger, incident: int) -> str:
    head, state = ledger.incidents.get(incident), ledger.incidents.current_state(incident)
    lines = [f"incident {head.id}: {head.pipeline} {head.kind} — now {state}"]
    lines += [
        f"{line.at:%Y-%m-%d %H:%M:%S}Z  {line.what:<22} {line.detail}"
        for line in ledger.incident_story(incident)
    ]
    if head.event_id and head.partition:  # event-driven: say what became of its duplicates
        counted = counted_events(ledger, incident)
        found = incident_duplicates(counted, head.pipeline, head.partition, head.opened_at)
        lines.append(f"duplicates: {found.summary()}")
    if (burst := ledger.outcomes.burst(incident)) is not None:  # a burst of refused events
        lines.append(f"refusals: {burst.summary()}")
    return "\n".join(lines) + "\n"
