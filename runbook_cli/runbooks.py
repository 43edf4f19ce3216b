"""`runbook validate | plan | graph | schema | run`: the authoring and running commands.

Each command imports what only it needs when it runs (plan, drawing, the compiler and
Prefect), so `validate`, which an editor may run on every save, loads the validator alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from flows.language.errors import RunbookError, RunbookValidationError, display_path
from flows.language.library import load_runbook, validate_files
from flows.language.schema import SCHEMA_PATH, render_schema, write_schema
from flows.language.validator import ValidatedRunbook

EVENT_HELP = "JSON file of the triggering event (Prefect event shape: event, resource, payload)"
PARAM_HELP = "Override a param: NAME=VALUE (repeatable)"


def validate(
    paths: list[Path] = typer.Argument(None, help="Files or folders (default: runbooks/)"),
) -> None:
    """Check runbooks; print OK per file or every problem, exit 1 if any file has one."""
    try:
        reports = validate_files(paths or ())
    except RunbookError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    failed = 0
    for report in reports:
        if report.runbook is not None:
            steps = len(report.runbook.spec.steps)
            typer.echo(f"OK   {display_path(report.path)}  ({report.runbook.name}: {steps} steps)")
            for warning in report.runbook.warnings:
                typer.echo(f"warning: {warning.render()}")
        else:
            failed += 1
            typer.echo(RunbookValidationError(report.problems).render(), err=True)
    typer.echo(f"{len(reports) - failed} valid, {failed} invalid")
    if failed:
        raise typer.Exit(1)


def plan(
    name: str = typer.Argument(..., help="Runbook name or file"),
    event: Path | None = typer.Option(None, "--event", help=EVENT_HELP),
    param: list[str] = typer.Option([], "--param", help=PARAM_HELP),
) -> None:
    """Dry run: params, the order steps run in, gates, failure handlers; touches no data."""
    from flows.language.plan import make_plan  # deferred: start-up time
    from runbook_cli.plan_text import render_plan

    runbook = _load(name)
    try:
        result = make_plan(runbook, _read_event(event), _overrides(param))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(render_plan(result), nl=False)


def graph(
    name: str = typer.Argument(..., help="Runbook name or file"),
    fmt: str = typer.Option("text", "--format", help="mermaid, dot, svg or text"),
) -> None:
    """Draw the step graph: gates as diamonds, failure handlers apart."""
    from flows.language.diagram import render_graph  # deferred: start-up time

    try:
        typer.echo(render_graph(_load(name), fmt), nl=False)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def schema(
    write: bool = typer.Option(False, "--write", help=f"Write {SCHEMA_PATH.name} in schemas/"),
) -> None:
    """Print (or write) the JSON Schema of the runbook language."""
    if write:
        typer.echo(f"wrote {write_schema()}")
    else:
        typer.echo(render_schema(), nl=False)


def run(
    name: str = typer.Argument(..., help="Runbook name or file"),
    event: Path | None = typer.Option(None, "--event", help=EVENT_HELP),
    param: list[str] = typer.Option([], "--param", help=PARAM_HELP),
    started_by: str | None = typer.Option(
        None, "--as", help="Who starts this run (they cannot approve it)"
    ),
) -> None:
    """Run the runbook now against the configured Prefect API (or a local ephemeral one)."""
    import asyncio  # deferred, like the rest: start-up time of the other commands

    from flows.runtime.compiler import compile_runbook
    from runbook_cli.stopped import exit_at_once_when_stopped
    from runbook_cli.stores import require_ledger_or_exit

    compiled = compile_runbook(_load(name))
    require_ledger_or_exit()
    flow_run = compiled.flow(
        event=_read_event(event), params=_overrides(param), triggered_by=started_by,
        return_state=True,
    )  # fmt: skip
    with exit_at_once_when_stopped(compiled.name):
        state = asyncio.run(flow_run)
    typer.echo(f"{compiled.name}: {state.name}" + (f" - {state.message}" if state.message else ""))
    if not state.is_completed():
        raise typer.Exit(1)


def _load(name: str) -> ValidatedRunbook:
    try:
        return load_runbook(name)
    except RunbookError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _read_event(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        typer.echo(f"error: {path}: cannot read the event: {exc}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(event, dict):
        typer.echo(f"error: {path}: an event is a JSON object", err=True)
        raise typer.Exit(2)
    return event


def _overrides(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            typer.echo(f"error: --param {pair!r}: write NAME=VALUE", err=True)
            raise typer.Exit(2)
        try:
            values[key] = json.loads(value)
        except json.JSONDecodeError:
            values[key] = value
    return values
