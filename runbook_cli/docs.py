"""`runbook docs`: the wiki pages of the runbooks (one per runbook, plus an index).

`runbook docs --out docs/runbooks` writes them (and removes pages it generated for runbooks
that are gone); `--check` writes nothing and exits 1 when the folder differs, for CI. The
committed docs/runbooks/ is checked by a test the same way, so the wiki and Git agree.
`--publish confluence` mirrors the same pages to Confluence (`confluence_mirror`); with
`--check` it reports the pages there that differ from Git.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from foundation.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from runbook_cli.runbook_pages import GeneratedDocs

DOCS_DIR = PROJECT_ROOT / "docs" / "runbooks"
MARKER = "Generated "  # every generated page carries it in its first lines


def render_pages() -> dict[str, str]:
    """File name -> Markdown for every runbook in the configured folder, plus the index."""
    return render_docs().pages


def render_docs() -> GeneratedDocs:
    """The pages of every runbook in the configured folder and the index, with the graphs."""
    from flows.language.diagram_svg import render_svg
    from flows.language.errors import RunbookValidationError
    from flows.language.library import validate_files
    from governance.config import load_governance
    from runbook_cli.runbook_pages import (
        INDEX,
        GeneratedDocs,
        page_name,
        render_index,
        render_page,
    )

    reports = validate_files()
    broken = [p for r in reports for p in r.problems]
    if broken:
        typer.echo(RunbookValidationError(broken).render(), err=True)
        typer.echo("no pages written: fix the runbooks above first", err=True)
        raise typer.Exit(1)
    config = load_governance()
    runbooks = sorted(
        (r.runbook for r in reports if r.runbook is not None), key=lambda runbook: runbook.name
    )
    pages = {page_name(r): render_page(r, config) for r in runbooks}
    pages[INDEX] = render_index([(r, page_name(r)) for r in runbooks], config)
    return GeneratedDocs(pages, {page_name(r): render_svg(r) for r in runbooks})


def stale_files(out: Path, pages: dict[str, str]) -> list[str]:
    """Pages that differ from, are missing in, or (generated once) are extra in `out`."""
    stale = [
        name
        for name, text in pages.items()
        if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text
    ]
    return stale + [p.name for p in _generated(out) if p.name not in pages]


def _generated(out: Path) -> list[Path]:
    if not out.is_dir():
        return []
    return sorted(
        p
        for p in out.glob("*.md")
        if MARKER in "".join(p.read_text(encoding="utf-8").splitlines(True)[:4])
    )


class Target(StrEnum):
    """Where `--publish` mirrors the pages."""

    confluence = "confluence"


def docs(
    out: Path = typer.Option(DOCS_DIR, "--out", help="Folder for the pages"),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 if the folder (or wiki) is stale"
    ),
    publish: Target | None = typer.Option(
        None,
        "--publish",
        help="Mirror the pages to a wiki: confluence (RUNBOOK_CONFLUENCE_URL, _SPACE, "
        "_PARENT, _USER, _TOKEN)",
    ),
) -> None:
    """Write one Markdown page per runbook (owners, SLA, triggers, step graph, steps, checks,
    gate, failure handling) and an index."""
    generated = render_docs()
    pages = generated.pages
    if publish is Target.confluence:
        from runbook_cli.confluence_publish import publish_to_confluence

        publish_to_confluence(generated, check=check)
        return
    if check:
        stale = stale_files(out, pages)
        if stale:
            typer.echo(
                f"stale in {out}: {', '.join(stale)}; run `runbook docs --out {out}`", err=True
            )
            raise typer.Exit(1)
        typer.echo(f"{out}: {len(pages)} pages up to date")
        return
    out.mkdir(parents=True, exist_ok=True)
    for path in _generated(out):
        if path.name not in pages:
            path.unlink()
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(pages)} pages to {out}")
