"""A mirrored page's attachments (the step graph's image), through Confluence's REST API.

Atlassian's attachment endpoints, as the Confluence Server/Data Center REST API documents
them: `GET content/{id}/child/attachment?filename=` finds one, `POST
content/{id}/child/attachment` (multipart, `X-Atlassian-Token: no-check`) creates it, `POST
content/{id}/child/attachment/{attachmentId}/data` stores a new version of it, and its
`_links.download` reads its bytes back. The bytes in Confluence are what is compared (their
sha256 against Git's), so an unchanged image is never uploaded again, a changed one gets a new
version, and an image replaced in Confluence is told apart from one Git changed by the sha256
recorded at the last publication.
"""

from __future__ import annotations

import hashlib
from typing import Any

from atlassian import Confluence

from runbook_cli.confluence_content import Attachment, MirrorPage, Outcome, attachment_title

COMMENT = "generated from Git by runbook docs"
NO_XSRF_CHECK = {"X-Atlassian-Token": "no-check", "Accept": "application/json"}


class PageAttachments:
    """Compare and upload the attachments of the pages of one Confluence."""

    def __init__(self, client: Confluence) -> None:
        self.client = client

    def compare(self, page: MirrorPage, page_id: str, recorded: dict[str, str]) -> list[Outcome]:
        """How each of the page's attachments in Confluence compares with Git."""
        outcomes = []
        for attachment in page.attachments:
            title = attachment_title(page, attachment)
            found = self._find(page_id, attachment.name)
            there = None if found is None else self._sha256(found)
            if there is None:
                outcomes.append(Outcome(title, "missing", "not uploaded yet"))
            elif there == attachment.sha256:
                outcomes.append(Outcome(title, "up to date"))
            elif there == recorded.get(attachment.name):
                outcomes.append(Outcome(title, "differs", "Git has changed since"))
            else:
                version = found["version"]["number"] if found else "?"
                detail = f"replaced in Confluence: version {version} is not the one published"
                outcomes.append(Outcome(title, "edited", detail))
        return outcomes

    def publish(self, page: MirrorPage, page_id: str) -> list[Outcome]:
        """Upload each attachment whose bytes in Confluence differ from Git's."""
        outcomes = []
        for attachment in page.attachments:
            title = attachment_title(page, attachment)
            found = self._find(page_id, attachment.name)
            if found is None:
                self._upload(f"rest/api/content/{page_id}/child/attachment", attachment)
                outcomes.append(Outcome(title, "created"))
            elif self._sha256(found) == attachment.sha256:
                outcomes.append(Outcome(title, "unchanged"))
            else:
                path = f"rest/api/content/{page_id}/child/attachment/{found['id']}/data"
                stored = self._upload(path, attachment)
                version = (stored.get("version") or {}).get("number", "?")
                outcomes.append(Outcome(title, "updated", f"version {version}"))
        return outcomes

    def _find(self, page_id: str, name: str) -> dict[str, Any] | None:
        found = self.client.get_attachments_from_content(page_id, filename=name, expand="version")
        results = [a for a in (found or {}).get("results") or [] if a.get("title") == name]
        return results[0] if results else None

    def _sha256(self, found: dict[str, Any]) -> str:
        data = self.client.get(found["_links"]["download"], not_json_response=True)
        return hashlib.sha256(data or b"").hexdigest()

    def _upload(self, path: str, attachment: Attachment) -> dict[str, Any]:
        answer = self.client.post(
            path,
            data={"comment": COMMENT, "minorEdit": "true"},
            files={"file": (attachment.name, attachment.content, attachment.media_type)},
            headers=NO_XSRF_CHECK,
        )
        results = (answer or {}).get("results")
        return results[0] if results else (answer or {})
