"""Releases: a report and its feed in one transaction; the portal holds both or neither."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from portal.client import PortalClient
from portal.content import canonical_feed
from portal.errors import PortalConflictError
from portal.server import PortalServer
from tests.portal.conftest import REPORT, REPORT_V2, TOKEN

FEED = {"metrics": {"mau": 1200, "dau_avg": 310.5}, "rows": [{"region": "EU"}]}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def stored(client: PortalClient, partition: str) -> dict[str, bytes | None]:
    found = {k: client.content("aggregate_profit", partition, k) for k in ("report", "feed")}
    return {kind: item.content if item else None for kind, item in found.items()}


def test_a_release_stores_report_and_feed_with_their_digests(
    client: PortalClient, partition: str
) -> None:
    release = client.publish_release(
        "aggregate_profit", partition, REPORT, FEED, "rel-" + partition
    )

    assert release.report.sha256 == hashlib.sha256(REPORT).hexdigest()
    assert release.feed.sha256 == hashlib.sha256(canonical_feed(FEED)).hexdigest()
    assert (release.report.version, release.feed.version) == (1, 1)
    assert stored(client, partition) == {"report": REPORT, "feed": canonical_feed(FEED)}


def test_replaying_a_release_returns_the_same_receipts_and_stores_nothing_new(
    client: PortalClient, portal: PortalServer, partition: str
) -> None:
    key = "rel-replay-" + partition
    first = client.publish_release("aggregate_profit", partition, REPORT, FEED, key)
    again = client.publish_release("aggregate_profit", partition, REPORT, FEED, key)

    assert again == first
    raw = httpx.post(
        f"{portal.url}/api/releases/aggregate_profit/{partition}",
        json={"report": REPORT.decode(), "feed": FEED},
        headers={**AUTH, "Idempotency-Key": key},
    )
    assert raw.status_code == 200 and raw.headers["Idempotent-Replayed"] == "true"
    for kind in ("report", "feed"):
        history = client.history("aggregate_profit", partition, kind)  # type: ignore[arg-type]
        assert history is not None and len(history.history) == 1


def test_a_conflict_on_the_feed_stores_neither(client: PortalClient, partition: str) -> None:
    key = "rel-conflict-" + partition
    client.publish_feed("aggregate_profit", partition, {"other": True}, f"{key}:feed")

    with pytest.raises(PortalConflictError):
        client.publish_release("aggregate_profit", partition, REPORT_V2, FEED, key)

    assert stored(client, partition) == {"report": None, "feed": canonical_feed({"other": True})}


@pytest.mark.parametrize(
    "body",
    [
        {"report": REPORT.decode(), "feed": ["not", "an", "object"]},
        {"report": "", "feed": FEED},
        {"report": REPORT.decode()},
        {"report": 42, "feed": FEED},
    ],
    ids=["feed-not-object", "empty-report", "no-feed", "report-not-text"],
)
def test_an_invalid_half_refuses_the_whole_release(
    client: PortalClient, portal: PortalServer, partition: str, body: dict[str, object]
) -> None:
    raw = httpx.post(
        f"{portal.url}/api/releases/aggregate_profit/{partition}",
        content=json.dumps(body),
        headers={
            **AUTH,
            "Idempotency-Key": "rel-bad-" + partition,
            "Content-Type": "application/json",
        },
    )
    assert raw.status_code == 422
    assert stored(client, partition) == {"report": None, "feed": None}


def test_a_release_needs_the_token(
    portal: PortalServer, client: PortalClient, partition: str
) -> None:
    raw = httpx.post(
        f"{portal.url}/api/releases/aggregate_profit/{partition}",
        json={"report": REPORT.decode(), "feed": FEED},
        headers={"Idempotency-Key": "rel-anon-" + partition},
    )
    assert raw.status_code == 401
    assert stored(client, partition) == {"report": None, "feed": None}
