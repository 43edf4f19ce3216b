"""`runbook annotate PIPELINE PARTITION --note TEXT --as NAME`: explain a real swing.

A genuine 40% MAU jump (a launch, a campaign) fails the engagement swing check until someone
says why. Only the people who may approve the pipeline's publication may (the engineers on
call now and its owners, from governance), and in the production profile each proves it with
the annotation code sent to them privately when the check failed
(`governance.annotation_codes`), as an approver does at a gate; the local profile takes the
name as typed and says so. The note is recorded in the warehouse and, when the partition has
an open incident, in its audit trail; the checks run again at once, and `runbook retry
INCIDENT` then recovers and publishes with the note in the report's notes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from runbook_cli.incidents import DbOption, command_services
from runbook_cli.oncall import GovernanceOption, load_config_or_exit


def annotate(
    pipeline: str = typer.Argument(..., help="Pipeline, e.g. aggregate_engagement"),
    partition: str = typer.Argument(..., help="Partition, e.g. 2026-03"),
    note: str = typer.Option(..., "--note", help="Why the numbers moved (recorded, published)"),
    who: str = typer.Option(..., "--as", help="Your name as in governance.yaml"),
    code: str = typer.Option(
        "", "--code", help="Your annotation code, sent to you privately (required in production)"
    ),
    db: DbOption = None,
    governance: GovernanceOption = None,
) -> None:
    """Record why a partition's numbers moved, then re-run its checks."""
    from foundation.settings import get_settings
    from governance.annotation_codes import AnnotationCodes
    from governance.oncall.responders import authorized_approvers
    from recovery_tasks.annotations import proof_of, record_annotation

    config = load_config_or_exit(governance)
    if pipeline not in config.pipelines:
        typer.echo(
            f"error: unknown pipeline '{pipeline}'; known: {', '.join(config.pipelines)}", err=True
        )
        raise typer.Exit(1)
    now = datetime.now(UTC)
    allowed = authorized_approvers(config, pipeline, now)
    if who not in allowed:
        typer.echo(
            f"error: '{who}' may not annotate {pipeline}; those who may approve its "
            f"publication may: {', '.join(sorted(allowed))}",
            err=True,
        )
        raise typer.Exit(1)
    codes = AnnotationCodes.of(get_settings().approval)
    refused = codes.refusal(pipeline, partition, who, code, now)
    if refused:
        typer.echo(f"error: {refused}; nothing recorded", err=True)
        raise typer.Exit(1)
    if not codes.required:
        typer.echo(
            f"local profile: '{who}' is taken as typed and not verified; production requires "
            "your annotation code (--code)"
        )
    with command_services(db, config) as services:
        try:
            outcome = record_annotation(
                services.platform(),
                services.ledger,
                pipeline,
                partition,
                note,
                who,
                proof=proof_of(codes.required, "annotation code"),
            )
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    where = f" on incident {outcome.incident_id}" if outcome.incident_id else ""
    typer.echo(f"annotated {pipeline} {partition} as {who}{where}: {outcome.note}")
    if outcome.still_failing:
        typer.echo(f"checks still failing: {', '.join(outcome.still_failing)}", err=True)
        raise typer.Exit(1)
    follow = f"; run `runbook retry {outcome.incident_id}`" if outcome.incident_id else ""
    typer.echo(f"checks pass: the partition is complete{follow}")
