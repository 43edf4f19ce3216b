"""The plain HTML listing of what is published: for people, with no script or styling kit."""

from __future__ import annotations

from html import escape

from portal.models import PublicationSummary


def _content_href(s: PublicationSummary, version: int) -> str:
    return escape(
        f"/api/publications/{s.pipeline}/{s.partition}/{s.kind}/content?version={version}"
    )


def render_listing(summaries: list[PublicationSummary]) -> str:
    """One row per (pipeline, partition, kind): the latest version and links to every version."""
    rows = []
    for s in summaries:
        r = s.latest
        older = " ".join(
            f'<a href="{_content_href(s, v)}">v{v}</a>' for v in range(s.versions - 1, 0, -1)
        )
        rows.append(
            "<tr>"
            f"<td>{escape(s.pipeline)}</td><td>{escape(s.partition)}</td><td>{escape(s.kind)}</td>"
            f'<td><a href="{_content_href(s, r.version)}">v{r.version}</a></td>'
            f"<td>{older or '&ndash;'}</td>"
            f"<td>{r.rows if r.rows is not None else ''}</td><td>{r.size_bytes}</td>"
            f"<td><code>{r.sha256[:12]}</code></td><td>{r.stored_at.isoformat()}</td>"
            "</tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="9">Nothing published yet.</td></tr>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Investor portal</title></head>
<body>
<h1>Investor portal: publications</h1>
<table border="1" cellpadding="4">
<thead><tr><th>pipeline</th><th>partition</th><th>kind</th><th>latest</th><th>history</th>
<th>rows</th><th>bytes</th><th>sha256</th><th>stored at</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</body></html>
"""
