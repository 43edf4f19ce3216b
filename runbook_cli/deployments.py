"""`runbook deployments` and `runbook serve`: the event-driven side (`runbook emit` is in
`runbook_cli/emit.py`). Both ask the application (`deployments.application`) for the one list
of deployments and automations: `serve` registers it with a runner of its own, `deployments`
lists it or writes it into prefect.yaml for a work pool."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from runbook_cli.prefect_api import api_errors, require_api
from runbook_cli.stores import upgrade_ledger_store

if TYPE_CHECKING:
    from deployments.application import RecoveryApplication
    from deployments.deployment_plan import DeploymentPlan

DEFAULT_POLL = 0.5
DEFAULT_LIMIT = 5
POLL_HELP = "Seconds between the runner's checks for runs to start (Prefect's default is 10)"
LIMIT_HELP = "Flow-run processes at most at once; further runs wait for a free slot"
SPAWN_HELP = (
    "Start each run as a new `python -m prefect.engine` process, as a work pool does, "
    "instead of a fork of a parent that has the engine imported (about 1.5 s slower per run)"
)


def _application() -> RecoveryApplication:
    """The application; broken runbooks end the command with every problem listed."""
    from deployments.application import RecoveryApplication
    from flows.language.errors import RunbookValidationError

    try:
        return RecoveryApplication.load()
    except RunbookValidationError as broken:
        typer.echo(broken.render(), err=True)
        typer.echo("nothing deployed: fix the runbooks above first", err=True)
        raise typer.Exit(1) from None


def deployments(
    write: bool = typer.Option(False, "--write", help="Write prefect.yaml (at the top level)"),
    out: Path | None = typer.Option(None, "--out", help="With --write: write it here instead"),
    yaml: bool = typer.Option(False, "--yaml", help="Print prefect.yaml instead of the list"),
    automations: bool = typer.Option(
        False, "--automations", help="Create or update the server's standing automations"
    ),
) -> None:
    """List every deployment with what starts it; print or write prefect.yaml."""
    from deployments.prefect_yaml import PREFECT_YAML, render_prefect_yaml, write_prefect_yaml

    app = _application()
    if automations:
        require_api()
        _ensure_automations(app)
    if write:
        typer.echo(f"wrote {write_prefect_yaml(app, out or PREFECT_YAML)}")
    elif yaml:
        typer.echo(render_prefect_yaml(app), nl=False)
    elif not automations:
        _list(app.deployments())


def _list(plans: list[DeploymentPlan]) -> None:
    width = max(len(p.full_name) for p in plans)
    for plan in plans:
        limit = f"; at most {plan.concurrency} at once" if plan.concurrency else ""
        typer.echo(f"{plan.full_name:<{width}}  {plan.describe_start()}{limit}")


def serve(
    poll: float = typer.Option(DEFAULT_POLL, "--poll", min=0.2, help=POLL_HELP),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", min=1, help=LIMIT_HELP),
    spawn: bool = typer.Option(False, "--spawn", help=SPAWN_HELP),
) -> None:
    """Serve every deployment of the application here until Ctrl-C or SIGTERM.

    The runner checks for runs to start every `--poll` seconds (Prefect's own default, 10 s,
    is most of an event's wait) and runs at most `--limit` flow-run processes; on Ctrl-C or
    SIGTERM it cancels the runs it started and stops their processes before it exits. Each
    run is a fork of a process that imported Prefect's engine and the runbooks' code when
    serve started (`deployments/forked_runs.py`), unless `--spawn`.
    """
    require_api()
    app = _application()
    upgrade_ledger_store(app.settings)
    plans = app.deployments()
    typer.echo(
        f"serving {len(plans)} deployments: {', '.join(p.full_name for p in plans)} and the "
        f"event door; polling every {poll:g} s, at most {limit} runs at once, each "
        + ("a new process" if spawn else "a fork of a warm process")
    )
    _ensure_automations(app)
    heartbeat = app.settings.operations.heartbeat_seconds
    with api_errors(), contextlib.suppress(KeyboardInterrupt), _approval_page():
        asyncio.run(
            _serve(
                [p.runner_deployment() for p in plans],
                poll,
                limit,
                heartbeat,
                app.runbooks,
                forked=not spawn,
            )
        )
    typer.echo("stopped; the runs this runner had started were cancelled")


@contextlib.contextmanager
def _approval_page() -> Iterator[None]:
    """Serve the approval page beside the runner when RUNBOOK_APPROVAL_PAGE_URL is set."""
    from foundation.settings import get_settings

    settings = get_settings().approval
    if not settings.approval_page_url:
        yield
        return
    from flows.approval.page_server import ApprovalPageServer
    from flows.runtime.run_services import open_command_services
    from runbook_cli.approval import page_port

    port = page_port(settings.approval_page_url)
    host = settings.approval_page_host
    with (
        open_command_services() as services,
        ApprovalPageServer(services.ledger, settings, host, port),
    ):
        typer.echo(f"approval page on {host}:{port} (links: {settings.approval_page_url})")
        yield


def door() -> None:
    """Run the event door alone, beside a work pool's workers (`runbook serve` runs its own).

    It decides every `pipeline.failed` event (opened, attached, refused, duplicate) in the
    ledger and creates a run of the runbook's deployment for each incident it opens; the
    deployments' own `pipeline.failed` triggers are disabled. Run exactly one.
    """
    require_api()
    app = _application()
    upgrade_ledger_store(app.settings)
    from flows.operations.event_door import serve_door

    names = ", ".join(r.name for r in app.runbooks)
    typer.echo(f"event door for {len(app.runbooks)} runbooks: {names}")
    with api_errors(), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_door(app.runbooks))


def _ensure_automations(app: RecoveryApplication) -> None:
    """Create or update the application's standing automations (the crash watch)."""
    from deployments.automations import ensure_automation

    operations = app.settings.operations
    with api_errors():
        for automation in app.automations():
            done = asyncio.run(ensure_automation(automation))
            typer.echo(f"automation {automation.name} {done}", err=True)
    typer.echo(
        f"runs send heartbeats every {operations.heartbeat_seconds} s and are marked Crashed "
        f"after {operations.crash_silence_seconds} s without one; the incident sync retries "
        "them once",
        err=True,
    )


async def _serve(
    deployments: list,
    poll: float,
    limit: int,
    heartbeat: float,
    runbooks: tuple,
    *,
    forked: bool = True,
) -> None:
    """Register the deployments with a runner of our own (so `--poll` reaches it) and run it
    beside the event door, which decides every `pipeline.failed` event and starts the runs.

    Its flow runs send heartbeats every `heartbeat` seconds, which the crash watch listens to.
    """
    import anyio
    from prefect.runner import Runner

    from deployments.forked_runs import forked_runs
    from flows.operations.event_door import serve_door

    runner = Runner(query_seconds=poll, limit=limit, heartbeat_seconds=heartbeat)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    with forked_runs() if forked else contextlib.nullcontext():
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve_door, runbooks)
            await runner.start()
            tasks.cancel_scope.cancel()
