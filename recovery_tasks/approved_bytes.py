"""What the approver saw, pinned by sha256: the report's bytes and the dashboard feed.

The report step records both digests (the feed's over the canonical JSON the portal
stores, so key order or whitespace never matter); the publish step reads the files again and
sends them only when both digests still equal the approved ones. Anything changed after the
approval — a rebuilt report, an edited feed — is refused, and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foundation.hashing import sha256_of
from portal.content import canonical_feed
from recovery_tasks.errors import TerminalStepError


@dataclass(frozen=True)
class ApprovedRelease:
    """The bytes to publish, proven equal to the approved ones."""

    report: bytes
    report_sha256: str
    feed: dict[str, Any] | None
    feed_sha256: str | None


def feed_sha256(feed: dict[str, Any]) -> str:
    """The feed's identity: sha256 of its canonical JSON, the bytes the portal stores."""
    return sha256_of(canonical_feed(feed))


def approved_release(
    report_path: Path,
    feed_path: Path | None,
    approved_sha256: str | None,
    approved_feed_sha256: str | None,
    retry: str = "runbook retry INCIDENT",
) -> ApprovedRelease:
    """Read the report (and feed) and refuse, terminally, anything but the approved bytes.

    A pinned report with an unpinned feed is refused too: the feed reaches investors beside
    the report, so it is published only as approved. A refusal of changed bytes names the
    next step: `retry` (the incident's `runbook retry N`) builds them again for a new approval.
    """
    again = (
        f"; nothing was sent. Next: find what rewrote the file since the approval, then run "
        f"`{retry}`: it builds the report and feed again and asks approval for those bytes"
    )
    report = report_path.read_bytes()
    digest = sha256_of(report)
    if approved_sha256 and digest != approved_sha256:
        raise TerminalStepError(
            f"refusing to publish: the report changed after approval "
            f"({digest[:12]} != approved {approved_sha256[:12]}){again}"
        )
    if feed_path is None:
        return ApprovedRelease(report, digest, None, None)
    if approved_sha256 and not approved_feed_sha256:
        raise TerminalStepError(
            "refusing to publish: the report is pinned to its approval but the dashboard feed "
            "is not; pin it with `approved_feed_sha256` (the report step's feed_sha256); "
            "nothing was sent"
        )
    from warehouse.outputs import read_feed  # deferred: the catalog loads without SQL

    feed = read_feed(feed_path)
    feed_digest = feed_sha256(feed)
    if approved_feed_sha256 and feed_digest != approved_feed_sha256:
        raise TerminalStepError(
            f"refusing to publish: the dashboard feed changed after approval "
            f"({feed_digest[:12]} != approved {approved_feed_sha256[:12]}){again}"
        )
    return ApprovedRelease(report, digest, feed, feed_digest)
