"""Requests that cannot succeed fail at once with a terminal error, never retried."""

from __future__ import annotations

import httpx
import pytest

from portal.client import PortalClient
from portal.errors import (
    PortalAuthError,
    PortalPayloadError,
    PortalUnavailableError,
    is_transient,
)
from portal.retry import RetryPolicy
from portal.server import PortalServer
from tests.portal.conftest import MAX_UPLOAD, REPORT, TOKEN, SleepRecorder


def test_bad_token_is_terminal_and_not_retried(
    portal: PortalServer, sleeps: SleepRecorder, partition: str
) -> None:
    with (
        PortalClient(portal.url, "wrong-token", sleep=sleeps) as bad,
        pytest.raises(PortalAuthError) as caught,
    ):
        bad.publish_report("aggregate_profit", partition, REPORT, "key-" + partition)

    assert caught.value.status == 401
    assert not is_transient(caught.value)
    assert sleeps.waits == []


def test_publishing_without_a_token_or_key_is_refused(portal: PortalServer) -> None:
    url = f"{portal.url}/api/reports/aggregate_profit/2024-03"
    no_token = httpx.post(url, content=REPORT, headers={"Idempotency-Key": "k"})
    no_key = httpx.post(url, content=REPORT, headers={"Authorization": f"Bearer {TOKEN}"})

    assert no_token.status_code == 401
    assert no_token.headers["WWW-Authenticate"] == "Bearer"
    assert no_key.status_code == 422


def test_admin_endpoints_need_the_token(portal: PortalServer) -> None:
    assert httpx.get(f"{portal.url}/admin/faults").status_code == 401
    refused = httpx.post(f"{portal.url}/admin/faults", json={"mode": "drop"})
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status"),
    [
        ("reports", b"a,b\n1,2,3\n", "text/csv", 422),  # ragged CSV
        ("reports", b"", "text/csv", 422),  # empty report
        ("reports", b"\xff\xfe", "text/csv", 422),  # not UTF-8
        ("feeds", b"[1, 2]", "application/json", 422),  # feed must be an object
        ("feeds", b"{not json", "application/json", 422),
        ("feeds", b"{}", "text/csv", 415),
        ("reports", b"a\n" + b"1\n" * MAX_UPLOAD, "text/csv", 413),
    ],
)
def test_malformed_uploads_are_rejected(
    portal: PortalServer, path: str, body: bytes, content_type: str, status: int
) -> None:
    response = httpx.post(
        f"{portal.url}/api/{path}/aggregate_profit/2024-03",
        content=body,
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Idempotency-Key": f"bad-{path}-{status}-{len(body)}",
            "Content-Type": content_type,
        },
    )
    assert response.status_code == status


def test_client_refuses_a_malformed_report_before_sending(
    client: PortalClient, sleeps: SleepRecorder, partition: str
) -> None:
    with pytest.raises(PortalPayloadError, match="row 2 has 3 fields"):
        client.publish_report("aggregate_profit", partition, b"a,b\n1,2,3\n", "k-" + partition)
    assert client.history("aggregate_profit", partition, "report") is None


def test_invalid_path_names_are_terminal(client: PortalClient) -> None:
    with pytest.raises(PortalPayloadError) as caught:
        client.publish_report("profit; drop table", "2024-03", REPORT, "k-path")
    assert caught.value.status == 422


def test_unreachable_portal_is_transient_after_bounded_retries(sleeps: SleepRecorder) -> None:
    retry = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    with (
        PortalClient("http://127.0.0.1:9", TOKEN, retry=retry, sleep=sleeps) as down,
        pytest.raises(PortalUnavailableError, match="after 3 attempt"),
    ):
        down.publish_report("aggregate_profit", "2024-03", REPORT, "k-down")
    assert len(sleeps.waits) == 2
