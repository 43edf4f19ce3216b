"""The runbook pages mirrored to Confluence: Git is the source, Confluence shows it.

`publish` creates or updates one page per runbook under an index page, itself under a
configured parent in a configured space, through the maintained `atlassian-python-api`
client. Each page carries a content property (`runbook-docs`) with the sha256 of the body Git
produced and the page version that publication made. That is what makes publishing
idempotent without comparing Confluence's normalised XHTML with ours: a page whose recorded
hash matches and whose version is still the recorded one is left alone (no new version).
The page's attachments (the step graph's image, `confluence_attachments`) are compared by
their bytes and uploaded only when they differ; the property records their sha256 too, so
`check` tells an image Git changed from one replaced in Confluence.
`check` reports, without writing, pages missing in Confluence, pages whose Git body changed,
pages someone edited in Confluence since the last publication, and pages under the index
that Git no longer has (a runbook removed: archive the page by hand, nothing is deleted).
"""

from __future__ import annotations

from typing import Any

from atlassian import Confluence
from atlassian.errors import ApiError

from runbook_cli.confluence_attachments import PageAttachments
from runbook_cli.confluence_content import MirrorPage, Outcome

PROPERTY = "runbook-docs"


class ConfluenceMirror:
    """Publish and check an index page and its runbook pages in one space."""

    def __init__(self, client: Confluence, space: str, parent_title: str) -> None:
        self.client = client
        self.space = space
        self.parent_title = parent_title
        self.attachments = PageAttachments(client)

    def publish(self, index: MirrorPage, pages: list[MirrorPage]) -> list[Outcome]:
        """Create or update the index under the parent and every page under the index."""
        parent = self._find(self.parent_title)
        if parent is None:
            raise LookupError(
                f"no page titled '{self.parent_title}' in space {self.space}: create it, or "
                "set RUNBOOK_CONFLUENCE_PARENT to the title of the page to publish under"
            )
        outcomes, index_id = self._publish(index, parent["id"])
        for page in pages:
            outcomes += self._publish(page, index_id)[0]
        return outcomes

    def check(self, index: MirrorPage, pages: list[MirrorPage]) -> list[Outcome]:
        """How each page and image in Confluence compares with Git (nothing is written)."""
        outcomes = self._compare([index, *pages])
        found = self._find(index.title)
        if found is not None:
            known = {page.title for page in pages}
            children = self.client.get_page_child_by_type(found["id"], type="page")
            outcomes += [
                Outcome(child["title"], "not in Git", "its runbook is gone: archive the page")
                for child in children
                if child["title"] not in known
            ]
        return outcomes

    def _compare(self, pages: list[MirrorPage]) -> list[Outcome]:
        outcomes = []
        for page in pages:
            found = self._find(page.title)
            recorded = None if found is None else self._recorded(found["id"])
            if found is None:
                outcomes.append(Outcome(page.title, "missing", "not published yet"))
            elif recorded is None or recorded["value"].get("sha256") != page.sha256:
                outcomes.append(Outcome(page.title, "differs", "Git has changed since"))
            elif recorded["value"].get("version") != found["version"]["number"]:
                published, now = recorded["value"].get("version"), found["version"]["number"]
                detail = f"edited in Confluence: version {now}, published as {published}"
                outcomes.append(Outcome(page.title, "edited", detail))
            else:
                outcomes.append(Outcome(page.title, "up to date"))
            if found is not None:
                shas = (recorded or {}).get("value", {}).get("attachments", {})
                outcomes += self.attachments.compare(page, found["id"], shas)
        return outcomes

    def _publish(self, page: MirrorPage, parent_id: str) -> tuple[list[Outcome], str]:
        found = self._find(page.title)
        recorded = None if found is None else self._recorded(found["id"])
        if found is None:
            created = self.client.create_page(
                self.space, page.title, page.body, parent_id=parent_id, representation="storage"
            )
            uploaded = self.attachments.publish(page, created["id"])
            self._record(created["id"], page, created["version"]["number"], None)
            return [Outcome(page.title, "created"), *uploaded], created["id"]
        version = found["version"]["number"]
        value = recorded["value"] if recorded else {}
        outcome = Outcome(page.title, "unchanged")
        if value.get("sha256") != page.sha256 or value.get("version") != version:
            version = self._update(page, found["id"], parent_id)["version"]["number"]
            edited = recorded is not None and value.get("version") != found["version"]["number"]
            detail = "replaced an edit made in Confluence" if edited else ""
            outcome = Outcome(page.title, "updated", detail)
        uploaded = self.attachments.publish(page, found["id"])
        if outcome.status != "unchanged" or value.get("attachments", {}) != _shas(page):
            self._record(found["id"], page, version, recorded)
        return [outcome, *uploaded], found["id"]

    def _update(self, page: MirrorPage, page_id: str, parent_id: str) -> dict[str, Any]:
        return self.client.update_page(
            page_id,
            page.title,
            page.body,
            parent_id=parent_id,
            representation="storage",
            version_comment="generated from Git by runbook docs",
            always_update=True,
        )

    def _find(self, title: str) -> dict[str, Any] | None:
        found = self.client.get_page_by_title(self.space, title, expand="version")
        results = (found or {}).get("results") or []
        return results[0] if results else None

    def _recorded(self, page_id: str) -> dict[str, Any] | None:
        try:
            return self.client.get_page_property(page_id, PROPERTY)
        except ApiError:  # the client's answer to a 404: never published by us
            return None

    def _record(
        self, page_id: str, page: MirrorPage, version: int, recorded: dict[str, Any] | None
    ) -> None:
        data: dict[str, Any] = {
            "key": PROPERTY,
            "value": {"sha256": page.sha256, "version": version, "attachments": _shas(page)},
        }
        if recorded is None:
            self.client.set_page_property(page_id, data)
        else:
            data["version"] = {"number": recorded["version"]["number"] + 1}
            self.client.update_page_property(page_id, data)


def _shas(page: MirrorPage) -> dict[str, str]:
    return {a.name: a.sha256 for a in page.attachments}
