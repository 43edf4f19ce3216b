"""Wire models of the portal API: receipts, listings and published content."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from portal.content import Kind


class Receipt(BaseModel):
    """Proof of one stored publication version; replaying its idempotency key returns it again."""

    model_config = ConfigDict(frozen=True)

    id: str
    pipeline: str
    partition: str
    kind: Kind
    version: int
    sha256: str
    size_bytes: int
    rows: int | None = None
    content_type: str
    stored_at: datetime


class ReleaseReceipt(BaseModel):
    """A report and its dashboard feed, stored together in one transaction."""

    model_config = ConfigDict(frozen=True)

    report: Receipt
    feed: Receipt


class PublicationSummary(BaseModel):
    """The latest version of one (pipeline, partition, kind) and how many versions exist."""

    model_config = ConfigDict(frozen=True)

    pipeline: str
    partition: str
    kind: Kind
    versions: int
    latest: Receipt


class PublicationHistory(BaseModel):
    """Every version of one (pipeline, partition, kind), newest first."""

    model_config = ConfigDict(frozen=True)

    pipeline: str
    partition: str
    kind: Kind
    latest: Receipt
    history: list[Receipt]


class PublishedContent(BaseModel):
    """A stored version's bytes with its receipt, e.g. to diff against a new report."""

    model_config = ConfigDict(frozen=True)

    receipt: Receipt
    content: bytes

    @property
    def text(self) -> str:
        """The content decoded as UTF-8 (a CSV report or a JSON feed)."""
        return self.content.decode("utf-8-sig")

    def as_json(self) -> Any:
        """The content parsed as JSON (for feeds)."""
        return json.loads(self.content)
