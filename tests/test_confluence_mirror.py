"""`runbook docs --publish confluence` against a local Confluence over real HTTP: create the
index and one page per runbook, update only what changed, a second run changes nothing, and
`--check` reports a page edited in Confluence."""

from __future__ import annotations

import xml.dom.minidom
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from foundation.settings import temporary_settings
from runbook_cli.confluence_publish import publish_to_confluence
from runbook_cli.docs import render_pages
from runbook_cli.main import app
from tests.confluence_server import FakeConfluence, confluence_server

PARENT = "Operations"
RUNBOOKS = ["aggregate-engagement", "aggregate-growth", "aggregate-profit",
            "daily-growth-experiments", "unit-profit-experiments"]  # fmt: skip


@pytest.fixture
def wiki() -> Iterator[FakeConfluence]:
    with confluence_server() as server:
        server.add_page("OPS", PARENT, "<p>Operations</p>")
        with temporary_settings(
            confluence_url=server.url,
            confluence_space="OPS",
            confluence_parent=PARENT,
            confluence_user="bot@example.com",
            confluence_token="token",
            confluence_edit_url="https://git.example.com/data/pipeline-recovery",
        ):
            yield server


def _docs(*args: str) -> object:
    return CliRunner().invoke(app, ["docs", "--publish", "confluence", *args])


def _versions(wiki: FakeConfluence) -> dict[str, int]:
    return {p.title: p.version for p in wiki.pages.values() if p.title != PARENT}


def test_publish_creates_an_index_under_the_parent_and_a_page_per_runbook(
    wiki: FakeConfluence,
) -> None:
    result = _docs()
    assert result.exit_code == 0, result.output
    assert "6 of 6 pages changed" in result.stdout
    index = wiki.by_title("Runbooks")
    assert index.parent == wiki.by_title(PARENT).id
    for name in RUNBOOKS:
        page = wiki.by_title(f"Runbook: {name}")
        assert page.parent == index.id and page.version == 1
    body = wiki.by_title("Runbook: aggregate-profit").bodies[-1]
    xml.dom.minidom.parseString(  # well-formed XHTML with Confluence's namespaces
        f'<r xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource">'
        f"{body}</r>"
    )
    assert body.startswith('<ac:structured-macro ac:name="info">')
    assert "Generated from Git</strong> (runbooks/aggregate-profit.yaml)" in body
    assert "edit the runbook in https://git.example.com/data/pipeline-recovery" in body
    assert '<ac:parameter ac:name="title">Step graph (Mermaid source)</ac:parameter>' in body
    assert '<![CDATA[flowchart TD\n    scan_logs["scan_logs<br/><small>' in body
    assert '<ri:page ri:content-title="Runbook: aggregate-profit" />' in index.bodies[-1]


def test_a_second_publication_changes_nothing(wiki: FakeConfluence) -> None:
    assert _docs().exit_code == 0
    before, sent = _versions(wiki), len(wiki.requests)
    result = _docs()
    assert result.exit_code == 0, result.output
    assert "0 of 6 pages changed" in result.stdout
    assert _versions(wiki) == before
    assert [r for r in wiki.requests[sent:] if r[0] != "GET"] == []  # read only
    assert _docs("--check").exit_code == 0


def test_only_the_page_whose_runbook_changed_gets_a_new_version(wiki: FakeConfluence) -> None:
    pages = render_pages()
    publish_to_confluence(pages, check=False)
    pages["aggregate-growth.md"] += "\nA paragraph added to the runbook's description.\n"
    publish_to_confluence(pages, check=False)
    versions = _versions(wiki)
    assert versions.pop("Runbook: aggregate-growth") == 2
    assert set(versions.values()) == {1}
    assert "A paragraph added" in wiki.by_title("Runbook: aggregate-growth").bodies[-1]


def test_check_reports_a_page_edited_in_confluence_and_publish_restores_it(
    wiki: FakeConfluence,
) -> None:
    assert _docs().exit_code == 0
    wiki.edit("Runbook: aggregate-profit", "<p>someone's quick fix</p>")
    checked = _docs("--check")
    assert checked.exit_code == 1
    assert (
        "differs from Git: Runbook: aggregate-profit: edited (edited in Confluence: "
        "version 2, published as 1)"
    ) in checked.stderr
    assert "1 page(s)" in checked.stderr
    restored = _docs()
    assert "Runbook: aggregate-profit: updated (replaced an edit made in Confluence)" in (
        restored.stdout
    )
    assert wiki.by_title("Runbook: aggregate-profit").version == 3
    assert _docs("--check").exit_code == 0


def test_check_reports_pages_not_published_yet(wiki: FakeConfluence) -> None:
    checked = _docs("--check")
    assert checked.exit_code == 1
    assert "Runbooks: missing (not published yet)" in checked.stderr


def test_publishing_without_the_parent_page_says_what_to_create(wiki: FakeConfluence) -> None:
    with temporary_settings(confluence_parent="Nowhere"):
        result = _docs()
    assert result.exit_code == 1
    assert "no page titled 'Nowhere' in space OPS" in result.stderr


def test_check_reports_a_page_under_the_index_that_git_no_longer_has(
    wiki: FakeConfluence,
) -> None:
    assert _docs().exit_code == 0
    wiki.add_page("OPS", "Runbook: retired-pipeline", "<p>old</p>", wiki.by_title("Runbooks").id)
    checked = _docs("--check")
    assert checked.exit_code == 1
    assert (
        "differs from Git: Runbook: retired-pipeline: not in Git (its runbook is gone: "
        "archive the page)"
    ) in checked.stderr
