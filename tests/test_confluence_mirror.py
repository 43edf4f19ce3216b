"""`runbook docs --publish confluence` against a local Confluence over real HTTP: create the
index and one page per runbook with its step graph as an attached image, update only what
changed (pages and images), a second run changes nothing, and `--check` reports a page or an
image edited in Confluence."""

from __future__ import annotations

import xml.dom.minidom
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from flows.language.diagram import render_graph
from flows.language.library import load_runbook
from foundation.settings import temporary_settings
from runbook_cli.confluence_publish import publish_to_confluence
from runbook_cli.docs import render_docs
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
    assert "6 of 6 pages and 5 of 5 images changed" in result.stdout
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
    assert '<ac:image ac:alt="Step graph"><ri:attachment ri:filename="step-graph.svg" />' in body
    assert '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Step graph' in body
    assert '<![CDATA[flowchart TD\n    scan_logs["scan_logs<br/><small>' in body  # source kept
    assert '<ri:page ri:content-title="Runbook: aggregate-profit" />' in index.bodies[-1]


def test_a_second_publication_changes_nothing(wiki: FakeConfluence) -> None:
    assert _docs().exit_code == 0
    before, sent = _versions(wiki), len(wiki.requests)
    result = _docs()
    assert result.exit_code == 0, result.output
    assert "0 of 6 pages and 0 of 5 images changed" in result.stdout
    assert _versions(wiki) == before
    assert [r for r in wiki.requests[sent:] if r[0] != "GET"] == []  # read only
    assert _docs("--check").exit_code == 0


def test_only_the_page_whose_runbook_changed_gets_a_new_version(wiki: FakeConfluence) -> None:
    docs = render_docs()
    publish_to_confluence(docs, check=False)
    docs.pages["aggregate-growth.md"] += "\nA paragraph added to the runbook's description.\n"
    publish_to_confluence(docs, check=False)
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
    assert "1 page(s) and 0 image(s)" in checked.stderr
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


def test_each_runbook_page_carries_its_step_graph_as_an_svg_attachment(
    wiki: FakeConfluence,
) -> None:
    assert _docs().exit_code == 0
    image = wiki.attachment("Runbook: aggregate-profit", "step-graph.svg")
    assert image.media_type == "image/svg+xml" and len(image.versions) == 1
    drawn = render_graph(load_runbook("aggregate-profit"), "svg")
    assert image.versions[-1] == drawn.encode()
    svg = xml.dom.minidom.parseString(image.versions[-1]).documentElement
    assert svg.tagName == "svg" and svg.getAttribute("xmlns") == "http://www.w3.org/2000/svg"
    labels = {t.firstChild.data for t in svg.getElementsByTagName("text") if t.firstChild}
    assert {"scan_logs", "approve", "publish", "publish.investor_portal"} <= labels
    assert wiki.by_title("Runbooks").attachments == {}  # the index has no graph


def test_a_changed_graph_gets_a_new_attachment_version_and_nothing_else_changes(
    wiki: FakeConfluence, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = render_docs()
    publish_to_confluence(docs, check=False)
    pages, sent = _versions(wiki), len(wiki.requests)
    docs.graphs["aggregate-growth.md"] = docs.graphs["aggregate-growth.md"].replace(
        "#deebff", "#e3fcef"
    )
    capsys.readouterr()
    with pytest.raises(typer.Exit):
        publish_to_confluence(docs, check=True)
    assert (
        "differs from Git: Runbook: aggregate-growth / step-graph.svg: differs (Git has changed "
        "since)"
    ) in capsys.readouterr().err
    publish_to_confluence(docs, check=False)
    assert "0 of 6 pages and 1 of 5 images changed" in capsys.readouterr().out
    assert _versions(wiki) == pages  # the page itself is unchanged
    growth = wiki.attachment("Runbook: aggregate-growth", "step-graph.svg")
    assert len(growth.versions) == 2 and b"#e3fcef" in growth.versions[-1]
    other = wiki.attachment("Runbook: aggregate-profit", "step-graph.svg")
    assert len(other.versions) == 1
    uploads = [r for r in wiki.requests[sent:] if r[0] == "POST"]
    assert uploads == [
        ("POST", f"/rest/api/content/{growth.page_id}/child/attachment/{growth.id}/data")
    ]
    publish_to_confluence(docs, check=True)  # up to date: no exit


def test_check_reports_an_image_replaced_in_confluence_and_publish_restores_it(
    wiki: FakeConfluence,
) -> None:
    assert _docs().exit_code == 0
    wiki.replace_attachment("Runbook: aggregate-profit", "step-graph.svg", b"<svg>a sketch</svg>")
    checked = _docs("--check")
    assert checked.exit_code == 1
    assert (
        "differs from Git: Runbook: aggregate-profit / step-graph.svg: edited (replaced in "
        "Confluence: version 2 is not the one published)"
    ) in checked.stderr
    assert "0 page(s) and 1 image(s)" in checked.stderr
    restored = _docs()
    assert "Runbook: aggregate-profit / step-graph.svg: updated (version 3)" in restored.stdout
    image = wiki.attachment("Runbook: aggregate-profit", "step-graph.svg")
    assert image.versions[-1] == image.versions[0]
    assert _docs("--check").exit_code == 0


def test_an_upload_without_the_xsrf_header_is_refused_like_confluence_does(
    wiki: FakeConfluence,
) -> None:
    import requests

    page = wiki.add_page("OPS", "Scratch", "<p>x</p>")
    url = f"{wiki.url}/rest/api/content/{page.id}/child/attachment"
    files = {"file": ("a.svg", b"<svg/>", "image/svg+xml")}
    refused = requests.post(url, files=files, auth=("u", "p"), timeout=10)
    assert refused.status_code == 403
    headers = {"X-Atlassian-Token": "no-check"}
    assert requests.post(url, files=files, auth=("u", "p"), headers=headers, timeout=10).ok
    again = requests.post(url, files=files, auth=("u", "p"), headers=headers, timeout=10)
    assert again.status_code == 400 and "same file name" in again.json()["message"]
