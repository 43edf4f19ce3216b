"""`runbook deployments` and `runbook serve`: the event-driven side (`runbook emit` is in
`runbook_cli/emit.py`)."""

from __future__ import annotations

import asyncio
import contextlib

import typer

from flows.language.errors import RunbookValidationError
from flows.runbook_library import validate_files
from runbook_cli.emit import emit
from runbook_cli.prefect_api import api_errors, require_api
from runbook_cli.stores import upgrade_ledger_store

DEFAULT_POLL = 1.0
DEFAULT_LIMIT = 5
POLL_HELP = "Seconds between the runner's checks for runs to start (Prefect's default is 10)"
LIMIT_HELP = "Flow-run processes at most at once; further runs wait for a free slot"


def _valid_runbooks() -> list:
    reports = validate_files()
    broken = [p for r in reports for p in r.problems]
    if broken:
        typer.echo(RunbookValidationError(broken).render(), err=True)
        typer.echo("nothing deployed: fix the runbooks above first", err=True)
        raise typer.Exit(1)
    return [r.runbook for r in reports]


def deployments(
    write: bool = typer.Option(False, "--write", help="Write prefect.yaml at the top level"),
    automations: bool = typer.Option(
        False, "--automations", help="Also create or update the server's crash watch"
    ),
) -> None:
    """Print (or write) prefect.yaml: every runbook's deployment and event triggers."""
    from deployments.prefect_yaml import render_prefect_yaml, write_prefect_yaml

    runbooks = _valid_runbooks()
    if automations:
        _ensure_crash_watch()
    if write:
        typer.echo(f"wrote {write_prefect_yaml(runbooks)}")
    else:
        typer.echo(render_prefect_yaml(runbooks), nl=False)


def serve(
    poll: float = typer.Option(DEFAULT_POLL, "--poll", min=0.2, help=POLL_HELP),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", min=1, help=LIMIT_HELP),
) -> None:
    """Serve every runbook's deployment here: events start recoveries until Ctrl-C or SIGTERM.

    The runner checks for runs to start every `--poll` seconds (Prefect's own default, 10 s,
    is most of an event's wait) and runs at most `--limit` flow-run processes; on Ctrl-C or
    SIGTERM it cancels the runs it started and stops their processes before it exits.
    """
    require_api()
    runbooks = _valid_runbooks()
    upgrade_ledger_store()
    typer.echo(
        f"serving {len(runbooks)} runbooks: {', '.join(r.name for r in runbooks)}, the intake, "
        f"the SLA watch and the invariant sweep; polling every {poll:g} s, at most {limit} runs "
        "at once"
    )
    from deployments.build import intake_deployment, runbook_deployment
    from flows.crash_watch import HEARTBEAT_SECONDS
    from flows.incident_sync import sync_deployment
    from flows.invariant_sweep import sweep_deployment
    from flows.sla_watch import INTERVAL_SECONDS, sla_watch

    _ensure_crash_watch()
    deployments = [
        *[runbook_deployment(r) for r in runbooks],
        intake_deployment(runbooks),
        sla_watch.to_deployment(name="sla-watch", interval=INTERVAL_SECONDS),
        sync_deployment(),
        sweep_deployment(),
        *_operations(),
    ]
    with api_errors(), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(deployments, poll, limit, HEARTBEAT_SECONDS))
    typer.echo("stopped; the runs this runner had started were cancelled")


def _ensure_crash_watch() -> None:
    """Create or update the automation marking runbook runs Crashed when heartbeats stop."""
    from flows.crash_watch import HEARTBEAT_SECONDS, SILENCE_SECONDS, ensure_crash_watch

    with api_errors():
        done = asyncio.run(ensure_crash_watch())
    typer.echo(
        f"crash watch {done}: runs send heartbeats every {HEARTBEAT_SECONDS} s and are marked "
        f"Crashed after {SILENCE_SECONDS} s without one; the incident sync retries them once",
        err=True,
    )


def _operations() -> list:
    """Escalations (run by the gates' automations) and the weekly incident report."""
    from flows.approval.escalation_flow import escalation_deployment
    from flows.weekly_report import weekly_report_deployment
    from governance.config import load_governance

    typer.echo("and the escalations and the weekly incident report (at the rotation's handoff)")
    return [escalation_deployment(), weekly_report_deployment(load_governance())]


async def _serve(deployments: list, poll: float, limit: int, heartbeat: float) -> None:
    """Register the deployments with a runner of our own (so `--poll` reaches it) and run it.

    Its flow runs send heartbeats every `heartbeat` seconds, which the crash watch listens to.
    """
    from prefect.runner import Runner

    runner = Runner(query_seconds=poll, limit=limit, heartbeat_seconds=heartbeat)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    await runner.start()


def register(app: typer.Typer) -> None:
    """Mount the commands at the top level of `runbook`."""
    for command in (deployments, serve, emit):
        app.command(command.__name__)(command)
