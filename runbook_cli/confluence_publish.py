"""`runbook docs --publish confluence`: the generated pages, converted to storage format,
mirrored to the configured Confluence space; with `--check`, the pages there that differ."""

from __future__ import annotations

import re

import typer

from foundation.settings import get_settings
from runbook_cli.confluence_content import Attachment, MirrorPage, Outcome
from runbook_cli.confluence_mirror import ConfluenceMirror
from runbook_cli.confluence_storage import page_title, to_storage
from runbook_cli.runbook_pages import GeneratedDocs

INDEX_TITLE = "Runbooks"
GRAPH_IMAGE = "step-graph.svg"  # attachment names are per page
_SOURCE = re.compile(r"^> Generated from `([^`]+)`", re.M)


def mirror_pages(docs: GeneratedDocs, edit_at: str) -> tuple[MirrorPage, list[MirrorPage]]:
    """The index and the runbook pages as Confluence pages (titles, storage bodies, images)."""
    from runbook_cli.runbook_pages import INDEX

    titles = {name: page_title(name, INDEX, INDEX_TITLE) for name in docs.pages}
    converted = {
        name: _page(name, text, docs, edit_at, titles) for name, text in docs.pages.items()
    }
    index = converted.pop(INDEX)
    return index, [converted[name] for name in sorted(converted)]


def _page(
    name: str, text: str, docs: GeneratedDocs, edit_at: str, titles: dict[str, str]
) -> MirrorPage:
    graph = docs.graphs.get(name)
    image = GRAPH_IMAGE if graph is not None else None
    body = to_storage(text, _source(text), edit_at, titles, image)
    if graph is None:
        return MirrorPage(titles[name], body)
    return MirrorPage(
        titles[name], body, (Attachment(GRAPH_IMAGE, graph.encode(), "image/svg+xml"),)
    )


def publish_to_confluence(docs: GeneratedDocs, *, check: bool) -> None:
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
    index, runbooks = mirror_pages(docs, settings.confluence_edit_url)
    where = f"{settings.confluence_url} space {settings.confluence_space}"
    if check:
        outcomes = mirror.check(index, runbooks)
        stale = [o for o in outcomes if o.status != "up to date"]
        for outcome in stale:
            typer.echo(f"differs from Git: {outcome.render()}", err=True)
        if stale:
            typer.echo(f"{_count(stale)} in {where} differ from Git", err=True)
            raise typer.Exit(1)
        typer.echo(f"{where}: {_count(outcomes)} up to date")
        return
    try:
        outcomes = mirror.publish(index, runbooks)
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for outcome in outcomes:
        typer.echo(outcome.render())
    pages = [o for o in outcomes if not o.is_attachment]
    images = [o for o in outcomes if o.is_attachment]
    changed_pages = sum(1 for o in pages if o.status != "unchanged")
    changed_images = sum(1 for o in images if o.status != "unchanged")
    typer.echo(
        f"{where}: {changed_pages} of {len(pages)} pages and {changed_images} of "
        f"{len(images)} images changed"
    )


def _count(outcomes: list[Outcome]) -> str:
    pages = sum(1 for o in outcomes if not o.is_attachment)
    return f"{pages} page(s) and {len(outcomes) - pages} image(s)"


def _source(text: str) -> str:
    found = _SOURCE.search(text)
    return found.group(1) if found else "runbooks/"
