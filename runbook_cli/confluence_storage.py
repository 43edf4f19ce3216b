"""A runbook's wiki page (the Markdown `runbook docs` writes) in Confluence's storage format.

Confluence stores pages as XHTML with its own macros, so the Markdown is converted (Python-
Markdown, tables and fenced code) and then adjusted: the step graph's Mermaid block becomes
the image of the graph the product draws itself (an attachment of the page, `ac:image`), which
Confluence shows without any app installed, with the Mermaid source kept verbatim in an
expandable `code` macro below it; other fenced blocks become the `code` macro; links between
runbook pages become Confluence page links, and an `info` panel on top says the page is
generated from Git and where to edit it. The result is the
same on every run for the same runbook, which is what makes publishing idempotent.
"""

from __future__ import annotations

import html
import re

import markdown

_FENCE = re.compile(r'<pre><code class="language-([\w-]+)">(.*?)</code></pre>', re.S)
_PLAIN_FENCE = re.compile(r"<pre><code>(.*?)</code></pre>", re.S)
_PAGE_LINK = re.compile(r'<a href="([\w.-]+)\.md">(.*?)</a>')
_GENERATED_NOTE = re.compile(r"<blockquote>\s*<p>Generated .*?</p>\s*</blockquote>\s*", re.S)


def page_title(page_file: str, index_file: str, index_title: str) -> str:
    """The Confluence title of a generated page (`aggregate-profit.md` -> `Runbook:
    aggregate-profit`); titles are unique in a space, so they carry the runbook's name."""
    if page_file == index_file:
        return index_title
    return f"Runbook: {page_file.removesuffix('.md')}"


def to_storage(
    text: str, source: str, edit_at: str, title_of: dict[str, str], graph_image: str | None = None
) -> str:
    """Storage-format XHTML of a Markdown page, with the generated-from-Git header.

    `source` names the file the page comes from, `edit_at` where people edit it, and
    `title_of` maps page files (`x.md`) to Confluence titles for the links between pages;
    `graph_image` names the page's attachment that shows the step graph.
    """
    body = markdown.markdown(text, extensions=["tables", "fenced_code"], output_format="xhtml")
    body = _GENERATED_NOTE.sub("", body, count=1)
    body = _FENCE.sub(lambda m: _fenced(m.group(2), m.group(1), graph_image), body)
    body = _PLAIN_FENCE.sub(lambda m: _code_macro(m.group(1), None), body)
    body = _PAGE_LINK.sub(lambda m: _page_link(m.group(1) + ".md", m.group(2), title_of), body)
    return _header(source, edit_at) + body + "\n"


def _header(source: str, edit_at: str) -> str:
    note = (
        f"<p><strong>Generated from Git</strong> ({html.escape(source)}) by "
        "<code>runbook docs --publish confluence</code>. Edits made here are overwritten "
        f"on the next publication: edit the runbook in {html.escape(edit_at)} instead.</p>"
    )
    return (
        '<ac:structured-macro ac:name="info"><ac:rich-text-body>'
        f"{note}</ac:rich-text-body></ac:structured-macro>\n"
    )


def _fenced(escaped: str, language: str, graph_image: str | None) -> str:
    """A fenced block: the step graph as its image above its source, any other as code."""
    if language != "mermaid" or graph_image is None:
        return _code_macro(escaped, language)
    image = (
        f'<ac:image ac:alt="Step graph"><ri:attachment ri:filename="{html.escape(graph_image)}" />'
        "</ac:image>"
    )
    expand = (
        '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Step graph '
        "(Mermaid source)</ac:parameter><ac:rich-text-body>"
        f"{_code_macro(escaped, language)}</ac:rich-text-body></ac:structured-macro>"
    )
    return f"<p>{image}</p>\n{expand}"


def _code_macro(escaped: str, language: str | None) -> str:
    """The `code` macro around a block's source (CDATA keeps it verbatim)."""
    source = html.unescape(escaped).rstrip("\n").replace("]]>", "]]]]><![CDATA[>")
    params = '<ac:parameter ac:name="language">{}</ac:parameter>'.format(
        "text" if language in (None, "mermaid") else language
    )
    if language == "mermaid":
        params += '<ac:parameter ac:name="title">Step graph (Mermaid source)</ac:parameter>'
    return (
        f'<ac:structured-macro ac:name="code">{params}'
        f"<ac:plain-text-body><![CDATA[{source}]]></ac:plain-text-body></ac:structured-macro>"
    )


def _page_link(page_file: str, label: str, title_of: dict[str, str]) -> str:
    title = title_of.get(page_file)
    if title is None:
        return label
    return (
        f'<ac:link><ri:page ri:content-title="{html.escape(title)}" />'
        f"<ac:plain-text-link-body><![CDATA[{html.unescape(label)}]]></ac:plain-text-link-body>"
        "</ac:link>"
    )
