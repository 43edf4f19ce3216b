"""The client the product publishes with: idempotent, retrying, with typed receipts.

Transient failures (5xx, 429, dropped connections, timeouts) are retried with bounded
backoff, honouring Retry-After; when attempts run out the call raises
`PortalUnavailableError` (transient). A 4xx raises a terminal `PortalRequestError` subclass
at once. Every retry reuses the caller's idempotency key, so a retried upload that had in
fact been stored comes back with the original receipt instead of a second publication.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from portal.content import MEDIA_TYPES, ContentError, Kind, canonical_feed, count_csv_rows, sha256
from portal.errors import (
    PortalError,
    PortalIntegrityError,
    PortalNotFoundError,
    PortalPayloadError,
    PortalRequestError,
    PortalUnavailableError,
    error_for_status,
)
from portal.models import (
    PublicationHistory,
    PublicationSummary,
    PublishedContent,
    Receipt,
    ReleaseReceipt,
)
from portal.retry import TRANSIENT_STATUSES, RetryPolicy, parse_retry_after

logger = logging.getLogger(__name__)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or body)
    return str(body)


class PortalClient:
    """Talks to one portal; use as a context manager or call `close()`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    # publishing

    def publish_report(
        self, pipeline: str, partition: str, csv_bytes: bytes, idempotency_key: str
    ) -> Receipt:
        """Publish a CSV report; the same key and content always give the same receipt."""
        _check_report(csv_bytes)
        return self._publish("report", pipeline, partition, csv_bytes, idempotency_key)

    def publish_feed(
        self, pipeline: str, partition: str, feed: dict[str, Any], idempotency_key: str
    ) -> Receipt:
        """Publish a dashboard feed; hashed in canonical JSON, so key order does not matter."""
        content = _feed_content(feed)
        return self._publish("feed", pipeline, partition, content, idempotency_key)

    def publish_release(
        self,
        pipeline: str,
        partition: str,
        csv_bytes: bytes,
        feed: dict[str, Any],
        idempotency_key: str,
    ) -> ReleaseReceipt:
        """Publish a report and its feed together: the portal stores both or neither."""
        _check_report(csv_bytes)  # UTF-8 once it passes, so the text below decodes
        feed_content = _feed_content(feed)
        response = self._request(
            "POST",
            _partition_path("releases", pipeline, partition),
            json={"report": csv_bytes.decode("utf-8"), "feed": feed},
            headers={"Idempotency-Key": idempotency_key},
        )
        release = ReleaseReceipt.model_validate_json(response.content)
        _check_receipt(release.report, csv_bytes)
        _check_receipt(release.feed, feed_content)
        logger.info(
            "portal release %s/%s report v%s feed v%s: %s",
            pipeline,
            partition,
            release.report.version,
            release.feed.version,
            response.headers.get("Publication-Outcome", "stored"),
        )
        return release

    def _publish(
        self, kind: Kind, pipeline: str, partition: str, content: bytes, key: str
    ) -> Receipt:
        response = self._request(
            "POST",
            _partition_path(f"{kind}s", pipeline, partition),
            content=content,
            headers={"Content-Type": MEDIA_TYPES[kind], "Idempotency-Key": key},
        )
        receipt = Receipt.model_validate_json(response.content)
        _check_receipt(receipt, content)
        logger.info(
            "portal %s %s/%s v%s: %s",
            kind,
            pipeline,
            partition,
            receipt.version,
            response.headers.get("Publication-Outcome", "stored"),
        )
        return receipt

    # reading

    def publications(self, pipeline: str | None = None) -> list[PublicationSummary]:
        """The latest version of every published series (optionally of one pipeline)."""
        params = {"pipeline": pipeline} if pipeline else None
        response = self._request("GET", "/api/publications", params=params)
        return [PublicationSummary.model_validate(item) for item in response.json()]

    def history(self, pipeline: str, partition: str, kind: Kind) -> PublicationHistory | None:
        """Every version of one series, newest first; None when nothing was published."""
        try:
            response = self._request("GET", self._series_path(pipeline, partition, kind))
        except PortalNotFoundError:
            return None
        return PublicationHistory.model_validate_json(response.content)

    def content(
        self, pipeline: str, partition: str, kind: Kind, version: int | None = None
    ) -> PublishedContent | None:
        """A published version's bytes (the latest by default), e.g. to diff a new report."""
        params = {"version": version} if version is not None else None
        path = self._series_path(pipeline, partition, kind) + "/content"
        try:
            response = self._request("GET", path, params=params)
        except PortalNotFoundError:
            return None
        history = self.history(pipeline, partition, kind)
        wanted = response.headers["X-Publication-Id"]
        receipt = next(r for r in history.history if r.id == wanted) if history else None
        if receipt is None:  # pragma: no cover - the version vanished between two reads
            raise PortalError(f"publication {wanted} disappeared while reading it")
        return PublishedContent(receipt=receipt, content=response.content)

    @staticmethod
    def _series_path(pipeline: str, partition: str, kind: Kind) -> str:
        return _partition_path("publications", pipeline, partition) + f"/{kind}"

    # transport

    def _request(
        self, method: str, path: str, *, retry: bool = True, **kwargs: Any
    ) -> httpx.Response:
        attempts = self.retry.max_attempts if retry else 1
        last, status = "", None
        for attempt in range(1, attempts + 1):
            wait = self.retry.backoff(attempt)
            try:
                response = self._http.request(method, path, **kwargs)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise PortalRequestError(f"bad portal URL: {exc}") from exc
            except httpx.TransportError as exc:
                last, status = f"{type(exc).__name__}: {exc}", None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in TRANSIENT_STATUSES:
                    raise error_for_status(response.status_code, _detail(response))
                status = response.status_code
                last = f"HTTP {status}: {_detail(response)}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    if retry_after > self.retry.max_retry_after:
                        raise PortalUnavailableError(
                            f"{method} {path}: portal asks to wait {retry_after:.0f}s "
                            f"(more than {self.retry.max_retry_after:.0f}s); {last}",
                            status=status,
                        )
                    wait = retry_after
            if attempt < attempts:
                logger.warning(
                    "portal %s %s failed (%s), attempt %d/%d, retrying in %.2fs",
                    method,
                    path,
                    last,
                    attempt,
                    attempts,
                    wait,
                )
                self._sleep(wait)
        raise PortalUnavailableError(
            f"{method} {path} failed after {attempts} attempt(s); last: {last}", status=status
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _partition_path(collection: str, pipeline: str, partition: str) -> str:
    """`/api/<collection>/<pipeline>/<partition>`, each name quoted."""
    return f"/api/{collection}/{quote(pipeline, safe='')}/{quote(partition, safe='')}"


def _check_report(csv_bytes: bytes) -> None:
    """Refuse, before sending, a report the portal would refuse (not UTF-8 CSV with a header)."""
    try:
        count_csv_rows(csv_bytes)
    except ContentError as exc:
        raise PortalPayloadError(str(exc)) from exc


def _feed_content(feed: dict[str, Any]) -> bytes:
    """The feed's canonical JSON, the bytes the portal stores and hashes."""
    try:
        return canonical_feed(feed)
    except ContentError as exc:
        raise PortalPayloadError(str(exc)) from exc


def _check_receipt(receipt: Receipt, sent: bytes) -> None:
    """A receipt must name the bytes that were sent; anything else is an integrity failure."""
    if receipt.sha256 != sha256(sent):
        raise PortalIntegrityError(
            f"{receipt.kind} receipt {receipt.id} has sha256 {receipt.sha256}, sent {sha256(sent)}"
        )
