"""The portal misbehaves on request (its fault plan, set through the admin client), and the
product's client rides out transient failures."""

from __future__ import annotations

import time

import httpx
import pytest

from faults.portal_admin import PortalFaultAdmin
from faults.portal_layer import portal_with_faults
from portal.client import PortalClient
from portal.config import PortalConfig
from portal.errors import PortalUnavailableError, is_transient
from portal.retry import RetryPolicy
from portal.server import PortalServer
from tests.portal.conftest import REPORT, TOKEN, SleepRecorder


def test_retries_succeed_after_server_errors(
    client: PortalClient, admin: PortalFaultAdmin, sleeps: SleepRecorder, partition: str
) -> None:
    admin.set_faults({"mode": "status", "status": 503, "count": 2})

    receipt = client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)

    assert receipt.version == 1
    assert len(sleeps.waits) == 2
    [rule] = admin.faults()
    assert (rule.fired, rule.remaining) == (2, 0)


def test_persistent_outage_raises_a_transient_error_after_bounded_attempts(
    client: PortalClient, admin: PortalFaultAdmin, sleeps: SleepRecorder, partition: str
) -> None:
    admin.set_faults({"mode": "status", "status": 502, "count": None})

    with pytest.raises(PortalUnavailableError, match="after 4 attempt") as caught:
        client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)

    assert is_transient(caught.value) and caught.value.status == 502
    assert len(sleeps.waits) == 3 and max(sleeps.waits) <= 0.06
    admin.clear_faults()
    assert client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)


def test_rate_limit_retry_after_is_honoured(
    client: PortalClient, admin: PortalFaultAdmin, sleeps: SleepRecorder, partition: str
) -> None:
    admin.set_faults({"mode": "rate_limit", "retry_after": 1, "count": 1})
    started = time.monotonic()

    client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)

    assert sleeps.waits == [1.0]
    assert time.monotonic() - started >= 1.0


def test_retry_after_beyond_the_bound_fails_fast(
    client: PortalClient, admin: PortalFaultAdmin, sleeps: SleepRecorder, partition: str
) -> None:
    admin.set_faults({"mode": "rate_limit", "retry_after": 600, "count": 1})

    with pytest.raises(PortalUnavailableError, match="asks to wait 600s"):
        client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)
    assert sleeps.waits == []


def test_dropped_connection_is_retried_without_duplicating(
    client: PortalClient,
    admin: PortalFaultAdmin,
    portal: PortalServer,
    sleeps: SleepRecorder,
    partition: str,
) -> None:
    admin.set_faults({"mode": "drop", "count": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            f"{portal.url}/api/reports/aggregate_profit/{partition}",
            content=REPORT,
            headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "raw"},
        )
    admin.set_faults({"mode": "drop", "count": 1})

    receipt = client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)

    assert len(sleeps.waits) == 1
    history = client.history("aggregate_profit", partition, "report")
    assert history is not None and history.history == [receipt]


def test_timeout_on_a_slow_portal_is_retried_and_stored_once(
    portal: PortalServer,
    admin: PortalFaultAdmin,
    fast_retry: RetryPolicy,
    sleeps: SleepRecorder,
    partition: str,
) -> None:
    with PortalClient(portal.url, TOKEN, timeout=0.3, retry=fast_retry, sleep=sleeps) as client:
        admin.set_faults({"mode": "slow", "delay": 1.0, "count": 1})

        receipt = client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)
        time.sleep(1.0)  # the timed-out first attempt now completes on the server

        assert len(sleeps.waits) == 1
        history = client.history("aggregate_profit", partition, "report")
        assert history is not None and history.history == [receipt]
        assert admin.faults()[0].fired == 1


def test_faults_target_publishing_unless_told_to_hit_everything(
    client: PortalClient, admin: PortalFaultAdmin, sleeps: SleepRecorder
) -> None:
    admin.set_faults({"mode": "status", "status": 500, "count": 1})
    client.publications()
    assert sleeps.waits == [] and admin.faults()[0].remaining == 1

    admin.set_faults({"mode": "status", "status": 500, "count": 1, "target": "all"})
    client.publications()
    assert len(sleeps.waits) == 1


def test_rules_apply_in_order(
    client: PortalClient, admin: PortalFaultAdmin, sleeps: SleepRecorder, partition: str
) -> None:
    admin.set_faults(
        [
            {"mode": "status", "status": 500, "count": 1},
            {"mode": "drop", "count": 1},
            {"mode": "status", "status": 504, "count": 1},
        ]
    )

    client.publish_report("aggregate_profit", partition, REPORT, "k-" + partition)

    assert [rule.fired for rule in admin.faults()] == [1, 1, 1]
    assert len(sleeps.waits) == 3


def test_an_unknown_fault_mode_is_refused_with_the_valid_ones(portal: PortalServer) -> None:
    response = httpx.post(
        f"{portal.url}/admin/faults",
        json={"mode": "explode"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 422
    assert "'status', 'rate_limit', 'slow', 'drop'" in response.text


def test_fault_plan_is_shared_by_workers_and_survives_restarts(
    portal_config: PortalConfig, client: PortalClient, admin: PortalFaultAdmin, partition: str
) -> None:
    with (
        PortalServer(portal_config, build=portal_with_faults) as first,
        PortalFaultAdmin(first.url, TOKEN) as via_first,
    ):
        via_first.set_faults({"mode": "status", "status": 503, "count": None})
    once = RetryPolicy(max_attempts=1)
    with (
        PortalServer(portal_config, build=portal_with_faults) as restarted,
        PortalClient(restarted.url, TOKEN, retry=once) as via_restarted,
        pytest.raises(PortalUnavailableError),
    ):
        via_restarted.publish_report("aggregate_profit", partition, REPORT, "k")
    # the session's own server shares the database, so it sees the same plan
    assert admin.faults()[0].fired == 1
