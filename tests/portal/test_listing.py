"""What is published, as people (HTML) and programs (JSON) see it."""

from __future__ import annotations

import httpx

from portal.client import PortalClient
from portal.server import PortalServer
from tests.portal.conftest import REPORT, REPORT_V2


def test_html_page_lists_the_latest_version_and_links_the_history(
    client: PortalClient, portal: PortalServer, partition: str
) -> None:
    client.publish_report("aggregate_engagement", partition, REPORT, "h1-" + partition)
    latest = client.publish_report("aggregate_engagement", partition, REPORT_V2, "h2-" + partition)

    page = httpx.get(f"{portal.url}/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    row = next(line for line in page.text.splitlines() if partition in line)
    assert "aggregate_engagement" in row and latest.sha256[:12] in row
    assert f"/api/publications/aggregate_engagement/{partition}/report/content?version=2" in row
    assert f"/api/publications/aggregate_engagement/{partition}/report/content?version=1" in row
    old = httpx.get(
        f"{portal.url}/api/publications/aggregate_engagement/{partition}/report/content?version=1"
    )
    assert old.content == REPORT and old.headers["X-Publication-Version"] == "1"


def test_json_listing_filters_by_pipeline_and_counts_versions(
    client: PortalClient, partition: str
) -> None:
    client.publish_report("aggregate_growth", partition, REPORT, "j1-" + partition)
    client.publish_report("aggregate_growth", partition, REPORT_V2, "j2-" + partition)
    client.publish_feed("aggregate_growth", partition, {"net_new_users": 12}, "j3-" + partition)

    mine = [s for s in client.publications("aggregate_growth") if s.partition == partition]

    assert {(s.kind, s.versions, s.latest.version) for s in mine} == {
        ("report", 2, 2),
        ("feed", 1, 1),
    }
    assert all(s.pipeline == "aggregate_growth" for s in client.publications("aggregate_growth"))


def test_latest_of_a_partition_returns_report_and_feed_content(
    client: PortalClient, portal: PortalServer, partition: str
) -> None:
    client.publish_report("aggregate_profit", partition, REPORT, "l1-" + partition)
    client.publish_feed("aggregate_profit", partition, {"profit": 40.0}, "l2-" + partition)

    latest = httpx.get(f"{portal.url}/api/publications/aggregate_profit/{partition}").json()

    assert latest["report"]["content"] == REPORT.decode()
    assert latest["feed"]["content"] == {"profit": 40.0}
    assert latest["report"]["receipt"]["version"] == 1


def test_nothing_published_reads_as_none_or_404(
    client: PortalClient, portal: PortalServer, partition: str
) -> None:
    assert client.content("aggregate_profit", partition, "report") is None
    assert client.history("aggregate_profit", partition, "feed") is None
    missing = httpx.get(f"{portal.url}/api/publications/aggregate_profit/{partition}")
    assert missing.status_code == 404
