"""What the Confluence mirror publishes and what it reports: pages, their attachments, outcomes.

Values only, shared by the page mirror (`confluence_mirror`) and its attachments
(`confluence_attachments`); each carries the sha256 that publishing compares, so an
unchanged page or image is never sent again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Attachment:
    """A file a page shows (the step graph's image): its name on the page and its bytes."""

    name: str
    content: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class MirrorPage:
    """A page to mirror: its title, its body in storage format and its attachments."""

    title: str
    body: str
    attachments: tuple[Attachment, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What happened to (or is wrong with) one page or attachment."""

    title: str
    status: str  # created, updated, unchanged | missing, differs, edited, up to date, not in Git
    detail: str = ""

    def render(self) -> str:
        return f"{self.title}: {self.status}{f' ({self.detail})' if self.detail else ''}"

    @property
    def is_attachment(self) -> bool:
        return " / " in self.title


def attachment_title(page: MirrorPage, attachment: Attachment) -> str:
    """How an attachment is named in outcomes: `Runbook: x / step-graph.svg`."""
    return f"{page.title} / {attachment.name}"
