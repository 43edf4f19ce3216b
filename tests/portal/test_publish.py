"""Publishing: receipts, idempotency, conflicts and versions."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from portal.client import PortalClient
from portal.errors import PortalConflictError
from portal.server import PortalServer
from tests.portal.conftest import REPORT, REPORT_V2, TOKEN, SleepRecorder


def test_receipt_describes_the_stored_report(client: PortalClient, partition: str) -> None:
    receipt = client.publish_report(
        "aggregate_profit", partition, REPORT, "key-receipt-" + partition
    )

    assert receipt.sha256 == hashlib.sha256(REPORT).hexdigest()
    assert receipt.size_bytes == len(REPORT)
    assert receipt.rows == 1
    assert receipt.version == 1
    assert receipt.kind == "report"
    assert abs(receipt.stored_at - datetime.now(UTC)) < timedelta(minutes=1)
    stored = client.content("aggregate_profit", partition, "report")
    assert stored is not None and stored.content == REPORT and stored.receipt == receipt


def test_same_key_same_content_gives_same_receipt_and_one_publication(
    client: PortalClient, portal: PortalServer, partition: str
) -> None:
    key = "key-replay-" + partition
    first = client.publish_report("aggregate_profit", partition, REPORT, key)
    again = client.publish_report("aggregate_profit", partition, REPORT, key)

    assert again == first
    history = client.history("aggregate_profit", partition, "report")
    assert history is not None and [r.id for r in history.history] == [first.id]
    raw = httpx.post(
        f"{portal.url}/api/reports/aggregate_profit/{partition}",
        content=REPORT,
        headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": key},
    )
    assert raw.status_code == 200
    assert raw.headers["Idempotent-Replayed"] == "true"


def test_same_key_different_content_is_a_conflict_and_not_retried(
    client: PortalClient, sleeps: SleepRecorder, partition: str
) -> None:
    key = "key-conflict-" + partition
    first = client.publish_report("aggregate_profit", partition, REPORT, key)

    with pytest.raises(PortalConflictError, match="idempotency key") as caught:
        client.publish_report("aggregate_profit", partition, REPORT_V2, key)

    assert caught.value.status == 409
    assert sleeps.waits == []
    stored = client.content("aggregate_profit", partition, "report")
    assert stored is not None and stored.receipt == first and stored.content == REPORT


def test_republish_with_new_content_makes_a_new_version_with_history(
    client: PortalClient, partition: str
) -> None:
    v1 = client.publish_report("aggregate_profit", partition, REPORT, "k1-" + partition)
    v2 = client.publish_report("aggregate_profit", partition, REPORT_V2, "k2-" + partition)

    assert (v1.version, v2.version) == (1, 2)
    history = client.history("aggregate_profit", partition, "report")
    assert history is not None
    assert history.latest == v2
    assert history.history == [v2, v1]
    previous = client.content("aggregate_profit", partition, "report", version=1)
    latest = client.content("aggregate_profit", partition, "report")
    assert previous is not None and previous.content == REPORT
    assert latest is not None and latest.content == REPORT_V2
    assert latest.text.splitlines()[:2] == previous.text.splitlines()


def test_unchanged_content_under_a_new_key_is_not_a_new_version(
    client: PortalClient, partition: str
) -> None:
    first = client.publish_report("aggregate_profit", partition, REPORT, "ka-" + partition)
    second = client.publish_report("aggregate_profit", partition, REPORT, "kb-" + partition)

    assert second == first
    [summary] = [s for s in client.publications("aggregate_profit") if s.partition == partition]
    assert summary.versions == 1


def test_feed_is_hashed_canonically_so_key_order_does_not_matter(
    client: PortalClient, partition: str
) -> None:
    feed = {"fiscal_month": "2024-03", "profit": 70.0, "by_region": {"EU": 40.0, "US": 30.0}}
    reordered = {"by_region": {"US": 30.0, "EU": 40.0}, "profit": 70.0, "fiscal_month": "2024-03"}

    first = client.publish_feed("aggregate_profit", partition, feed, "feed-" + partition)
    again = client.publish_feed("aggregate_profit", partition, reordered, "feed-" + partition)

    assert again == first
    assert first.kind == "feed" and first.rows is None
    stored = client.content("aggregate_profit", partition, "feed")
    assert stored is not None and stored.as_json() == feed


def test_concurrent_retries_of_one_key_store_one_publication(
    client: PortalClient, partition: str
) -> None:
    key = "key-race-" + partition
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(
            pool.map(
                lambda _: client.publish_report("aggregate_growth", partition, REPORT, key),
                range(16),
            )
        )

    assert len({r.id for r in receipts}) == 1
    history = client.history("aggregate_growth", partition, "report")
    assert history is not None and len(history.history) == 1
