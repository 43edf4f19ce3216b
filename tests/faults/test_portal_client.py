"""The fault layer's portal client refuses to publish a partition with a publishing fault."""

from __future__ import annotations

import uuid

import pytest

from faults import clear_faults, inject
from faults.portal_client import FaultingPortalClient
from portal.errors import PortalUnavailableError, is_transient
from portal.server import PortalServer
from tests.portal.conftest import REPORT, TOKEN
from warehouse.db import Platform

FEED = {"pipeline": "aggregate_profit", "metrics": {"revenue_cents": 1}}


def _versions(client: FaultingPortalClient, partition: str) -> int:
    history = client.history("aggregate_profit", partition, "report")
    return len(history.history) if history else 0


def test_publishing_a_faulted_partition_fails_transiently_and_sends_nothing(
    clean: Platform, portal: PortalServer
) -> None:
    key = uuid.uuid4().hex
    inject(clean, "report_publishing", "aggregate_profit", "2026-03")
    with FaultingPortalClient(portal.url, TOKEN, faults_db=clean.warehouse) as client:
        before = _versions(client, "2026-03")
        with pytest.raises(PortalUnavailableError, match="HTTP 503") as info:
            client.publish_report("aggregate_profit", "2026-03", REPORT, f"r-{key}")
        assert is_transient(info.value) and info.value.status == 503
        with pytest.raises(PortalUnavailableError):
            client.publish_feed("aggregate_profit", "2026-03", FEED, f"f-{key}")
        assert _versions(client, "2026-03") == before

        other = client.publish_report("aggregate_profit", "2026-04", REPORT, f"o-{key}")
        assert other.version >= 1

        clear_faults(clean)
        receipt = client.publish_report("aggregate_profit", "2026-03", REPORT, f"r-{key}")
        assert _versions(client, "2026-03") >= max(before, 1) and receipt.version >= 1
