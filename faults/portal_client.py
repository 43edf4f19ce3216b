"""A portal client that honours an injected report-publishing fault.

The fault layer hands run services this client instead of the plain one (`portal_factory`,
see `faults.activation`). While a `report_publishing` fault is recorded for a pipeline and
partition, publishing a report, a feed or a release of that partition fails the way a portal
that keeps answering with the recorded status fails the real client once its retries are
spent: a transient `PortalUnavailableError`, nothing sent. Everything else goes to the real portal.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from faults.injection import publishing_fault
from portal.client import PortalClient
from portal.errors import PortalUnavailableError
from portal.models import Receipt, ReleaseReceipt


class FaultingPortalClient(PortalClient):
    """`PortalClient` whose publishing first consults the fault records in `faults_db`."""

    def __init__(self, base_url: str, token: str, *, faults_db: Engine, **kwargs: Any) -> None:
        super().__init__(base_url, token, **kwargs)
        self._faults_db = faults_db

    def publish_report(
        self, pipeline: str, partition: str, csv_bytes: bytes, idempotency_key: str
    ) -> Receipt:
        """Refuse while a publishing fault is injected; otherwise publish as the real client."""
        self._raise_if_faulted("report", pipeline, partition)
        return super().publish_report(pipeline, partition, csv_bytes, idempotency_key)

    def publish_feed(
        self, pipeline: str, partition: str, feed: dict[str, Any], idempotency_key: str
    ) -> Receipt:
        """Refuse while a publishing fault is injected; otherwise publish as the real client."""
        self._raise_if_faulted("feed", pipeline, partition)
        return super().publish_feed(pipeline, partition, feed, idempotency_key)

    def publish_release(
        self,
        pipeline: str,
        partition: str,
        csv_bytes: bytes,
        feed: dict[str, Any],
        idempotency_key: str,
    ) -> ReleaseReceipt:
        """Refuse while a publishing fault is injected; otherwise publish as the real client."""
        self._raise_if_faulted("release", pipeline, partition)
        return super().publish_release(pipeline, partition, csv_bytes, feed, idempotency_key)

    def _raise_if_faulted(self, kind: str, pipeline: str, partition: str) -> None:
        fault = publishing_fault(self._faults_db, pipeline, partition)
        if fault is None:
            return
        status = int(fault.params.get("status", 503))
        raise PortalUnavailableError(
            f"POST /api/{kind}s/{pipeline}/{partition}: portal answered HTTP {status} "
            f"(injected report_publishing fault #{fault.id})",
            status=status,
        )
