"""`runbook portal ...`: serve the investor portal, look at what is published, steer faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from faults.portal_admin import PortalFaultAdmin
from faults.portal_plan import FaultRule, FaultStore, parse_fault, upgrade_fault_plan
from foundation.settings import get_settings
from portal.cli_support import host_and_port
from portal.client import PortalClient
from portal.config import PortalConfig
from portal.content import Kind
from portal.database import portal_engine, upgrade_portal
from portal.errors import PortalError

app = typer.Typer(help="The investor portal: serve it, list publications, inject faults.")
faults_app = typer.Typer(help="The portal's fault plan (what it should fail next).")
app.add_typer(faults_app, name="faults")

UrlOption = Annotated[str | None, typer.Option(help="Portal URL [RUNBOOK_PORTAL_URL].")]
FaultOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fault",
        help='A fault rule, JSON or shorthand, e.g. "mode=status,status=503,count=2"; '
        "repeat for a sequence.",
    ),
]


def _client(url: str | None) -> PortalClient:
    settings = get_settings()
    return PortalClient(url or settings.portal.portal_url, settings.portal.portal_token)


def _admin(url: str | None) -> PortalFaultAdmin:
    settings = get_settings()
    return PortalFaultAdmin(url or settings.portal.portal_url, settings.portal.portal_token)


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address [from RUNBOOK_PORTAL_URL].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [from RUNBOOK_PORTAL_URL].")] = None,
    db_url: Annotated[str | None, typer.Option(help="Database [<data_dir>/portal.db].")] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token [RUNBOOK_PORTAL_TOKEN].")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    faults: Annotated[
        bool | None,
        typer.Option(
            "--faults/--no-faults",
            help="Serve behind the fault layer (/admin/faults) [on with RUNBOOK_FAULTS=on, "
            "--fault or --clear-faults].",
        ),
    ] = None,
    fault: FaultOption = None,
    clear_faults: Annotated[bool, typer.Option(help="Start with an empty fault plan.")] = False,
    log_level: Annotated[str, typer.Option(help="Uvicorn log level.")] = "info",
) -> None:
    """Serve the investor portal until interrupted."""
    from portal.server import serve as run_server

    settings = get_settings()
    default_host, default_port = host_and_port(settings.portal.portal_url)
    config = PortalConfig.from_settings(db_url=db_url, token=token)
    try:
        rules = [parse_fault(text) for text in fault or []]
    except ValueError as exc:
        raise _fail(exc) from exc
    with_faults = (
        faults if faults is not None else bool(settings.runbooks.faults or rules or clear_faults)
    )
    if not with_faults and (rules or clear_faults):
        raise _fail(ValueError("--fault and --clear-faults need the fault layer: drop --no-faults"))
    engine = portal_engine(config.db_url)
    upgrade_portal(engine)
    if with_faults:
        _prepare_fault_plan(engine, rules, clear_faults or bool(rules))
    engine.dispose()
    host, port = host or default_host, port or default_port
    if not with_faults:
        run_server(config, host, port, workers=workers, log_level=log_level)
        return
    from faults.portal_layer import portal_with_faults

    factory = "faults.portal_layer:app_from_settings"
    run_server(
        config, host, port, workers=workers, log_level=log_level,
        build=portal_with_faults, factory=factory,
    )  # fmt: skip


def _prepare_fault_plan(engine: Engine, rules: list[FaultRule], replace: bool) -> None:
    """Set up the fault plan's table, start it with `rules` if asked, and show what is live."""
    upgrade_fault_plan(engine)
    store = FaultStore(engine)
    if replace:
        store.replace(rules)
    for state in store.list():
        if state.remaining != 0:
            typer.secho(f"fault plan: {state.rule.model_dump_json()}", fg=typer.colors.YELLOW)


@app.command()
def migrate(
    db_url: Annotated[str | None, typer.Option(help="Database [<data_dir>/portal.db].")] = None,
) -> None:
    """Create or upgrade the portal database's tables (Alembic; `serve` does it too)."""
    config = PortalConfig.from_settings(db_url=db_url)
    engine = portal_engine(config.db_url)
    try:
        revision = upgrade_portal(engine)
    finally:
        engine.dispose()
    typer.echo(f"portal database at {revision}")


@app.command("list")
def list_publications(
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: UrlOption = None,
) -> None:
    """What is published: the latest version of each (pipeline, partition, kind)."""
    try:
        with _client(url) as client:
            summaries = client.publications(pipeline)
    except PortalError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
        return
    for s in summaries:
        r = s.latest
        typer.echo(
            f"{s.pipeline:<26} {s.partition:<12} {s.kind:<6} v{r.version:<3} "
            f"({s.versions} version(s))  {r.sha256[:12]}  {r.stored_at:%Y-%m-%d %H:%M:%S}Z"
        )
    if not summaries:
        typer.echo("nothing published")


@app.command()
def show(
    pipeline: str,
    partition: str,
    kind: Annotated[str, typer.Option(help="report or feed.")] = "report",
    version: Annotated[int | None, typer.Option(help="A version; the latest by default.")] = None,
    url: UrlOption = None,
) -> None:
    """Print a published report or feed."""
    try:
        with _client(url) as client:
            item = client.content(pipeline, partition, _kind(kind), version)
    except PortalError as exc:
        raise _fail(exc) from exc
    if item is None:
        raise _fail(LookupError(f"no {kind} published for {pipeline}/{partition}"))
    typer.echo(item.text, nl=False)


@app.command()
def publish(
    pipeline: str,
    partition: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSON file.")],
    key: Annotated[str, typer.Option(help="Idempotency key.")],
    kind: Annotated[str, typer.Option(help="report (CSV) or feed (JSON).")] = "report",
    feed: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The report's dashboard feed (JSON): both are stored in one release, or neither.",
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Publish by hand: a report with its feed (one release), or one file; prints the receipt."""
    if feed is not None and _kind(kind) != "report":
        raise _fail(ValueError("--feed goes with a report: FILE is the CSV, --feed its JSON"))
    try:
        with _client(url) as client:
            if feed is not None:
                released = client.publish_release(
                    pipeline, partition, file.read_bytes(), _json_file(feed), key
                )
                typer.echo(released.model_dump_json(indent=2))
                return
            if _kind(kind) == "report":
                receipt = client.publish_report(pipeline, partition, file.read_bytes(), key)
            else:
                receipt = client.publish_feed(pipeline, partition, _json_file(file), key)
    except (PortalError, ValueError) as exc:
        raise _fail(exc) from exc
    typer.echo(receipt.model_dump_json(indent=2))


def _json_file(path: Path) -> Any:
    """The JSON in `path`; a parse error names the file, line and column."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from exc


def _kind(kind: str) -> Kind:
    if kind not in ("report", "feed"):
        raise _fail(ValueError(f"kind must be report or feed, not {kind!r}"))
    return "report" if kind == "report" else "feed"


@faults_app.command("show")
def faults_show(url: UrlOption = None) -> None:
    """Print the fault plan and what is left of each rule."""
    try:
        with _admin(url) as admin:
            states = admin.faults()
    except PortalError as exc:
        raise _fail(exc) from exc
    for state in states:
        left = "until cleared" if state.remaining is None else f"{state.remaining} left"
        typer.echo(f"{state.rule.model_dump_json()}  fired {state.fired}, {left}")
    if not states:
        typer.echo("no faults")


@faults_app.command("set")
def faults_set(
    rules: Annotated[list[str], typer.Argument(help="Fault rules (JSON or shorthand), in order.")],
    url: UrlOption = None,
) -> None:
    """Replace the fault plan, e.g. `runbook portal faults set mode=drop,count=1`."""
    try:
        parsed = [parse_fault(text) for text in rules]
        with _admin(url) as admin:
            admin.set_faults(parsed)
    except (PortalError, ValueError) as exc:
        raise _fail(exc) from exc
    typer.echo(f"fault plan set: {len(parsed)} rule(s)")


@faults_app.command("clear")
def faults_clear(url: UrlOption = None) -> None:
    """Clear the fault plan."""
    try:
        with _admin(url) as admin:
            admin.clear_faults()
    except PortalError as exc:
        raise _fail(exc) from exc
    typer.echo("fault plan cleared")
