"""Error taxonomy of the portal client: transient errors may succeed on retry, terminal never.

The markers follow dlt's `TransientException`/`TerminalException`: callers decide by class,
not by parsing messages. The markers are the foundation's, so a runbook step is retried
after a portal outage but not after a bad token or a conflicting idempotency key.
"""

from __future__ import annotations

from foundation.errors import RecoveryError, TerminalError, TransientError

__all__ = ["TerminalError", "TransientError"]


class PortalError(RecoveryError):
    """Any failure talking to the portal; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PortalUnavailableError(PortalError, TransientError):
    """The portal kept failing transiently (5xx, 429, dropped connection, timeout)."""


class PortalRequestError(PortalError, TerminalError):
    """The portal rejected the request (4xx); fix the request, do not retry it."""


class PortalAuthError(PortalRequestError):
    """401/403: the bearer token is missing or wrong."""


class PortalPayloadError(PortalRequestError):
    """400/413/415/422: the report or feed is malformed, too large or of the wrong type."""


class PortalNotFoundError(PortalRequestError):
    """404: no such publication or endpoint."""


class PortalConflictError(PortalRequestError):
    """409: the idempotency key was already used for different content."""


class PortalIntegrityError(PortalError, TerminalError):
    """The receipt does not describe what was sent (checksum mismatch)."""


def is_transient(exc: BaseException | None) -> bool:
    """Whether the client may try the same call again; unknown errors count as terminal."""
    return isinstance(exc, TransientError)


def error_for_status(status: int, detail: str) -> PortalRequestError:
    """The terminal error class matching a 4xx status."""
    kinds: dict[int, type[PortalRequestError]] = {
        400: PortalPayloadError,
        401: PortalAuthError,
        403: PortalAuthError,
        404: PortalNotFoundError,
        409: PortalConflictError,
        413: PortalPayloadError,
        415: PortalPayloadError,
        422: PortalPayloadError,
    }
    return kinds.get(status, PortalRequestError)(
        f"portal answered {status}: {detail}", status=status
    )
