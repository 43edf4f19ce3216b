"""`runbook docs --publish confluence`: the generated pages, converted to storage format,
mirrored to the configured Confluence space; with `--check`, the pages there that differ."""

from __future__ import annotations

import re

import typer

from foundation.settings import get_settings
from runbook_cli.confluence_mirror import ConfluenceMirror, MirrorPage
from runbook_cli.confluence_storage import page_title, to_storage

INDEX_TITLE = "Runbooks"
_SOURCE = re.compile(r"^> Generated from `([^`]+)`", re.M)


def mirror_pages(pages: dict[str, str], edit_at: str) -> tuple[MirrorPage, list[MirrorPage]]:
    """The index and the runbook pages as Confluence pages (titles, storage bodies)."""
    from runbook_cli.runbook_pages import INDEX

    titles = {name: page_title(name, INDEX, INDEX_TITLE) for name in pages}
    converted = {
        name: MirrorPage(titles[name], to_storage(text, _source(text), edit_at, titles))
        for name, text in pages.items()
    }
    index = converted.pop(INDEX)
    return index, [converted[name] for name in sorted(converted)]


def publish_to_confluence(pages: dict[str, str], *, check: bool) -> None:
    """Publish (or check) every page; exit 1 on a check that finds differences."""
    from atlassian import Confluence

    settings = get_settings().confluence
    if not settings.confluence_url:
        typer.echo("error: set RUNBOOK_CONFLUENCE_URL (and _USER, _TOKEN) to publish", err=True)
        raise typer.Exit(1)
    client = Confluence(
        url=settings.confluence_url,
        username=settings.confluence_user,
        password=settings.confluence_token,
    )
    mirror = ConfluenceMirror(client, settings.confluence_space, settings.confluence_parent)
    index, runbooks = mirror_pages(pages, settings.confluence_edit_url)
    where = f"{settings.confluence_url} space {settings.confluence_space}"
    if check:
        outcomes = mirror.check(index, runbooks)
        stale = [o for o in outcomes if o.status != "up to date"]
        for outcome in stale:
            typer.echo(f"differs from Git: {outcome.render()}", err=True)
        if stale:
            typer.echo(f"{len(stale)} page(s) in {where} differ from Git", err=True)
            raise typer.Exit(1)
        typer.echo(f"{where}: {len(outcomes)} pages up to date")
        return
    try:
        outcomes = mirror.publish(index, runbooks)
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for outcome in outcomes:
        typer.echo(outcome.render())
    changed = sum(1 for o in outcomes if o.status != "unchanged")
    typer.echo(f"{where}: {changed} of {len(outcomes)} pages changed")


def _source(text: str) -> str:
    found = _SOURCE.search(text)
    return found.group(1) if found else "runbooks/"
