"""One error root for the project, with transient and terminal markers (dlt's taxonomy).

Retries are decided by type, never by reading attributes of an unknown exception:
`TransientError` says the same call may succeed later (an outage, a timeout), `TerminalError`
says it never will (bad input, a refused approval, a conflict). `is_retryable` is the one
classifier; Prefect tasks plug it in through `retry_condition`.
"""

from __future__ import annotations

from typing import Any


class RecoveryError(Exception):
    """Base of every error the project raises on purpose."""


class TransientError(Exception):
    """Marker: the same call may succeed later (outage, rate limit, timeout, late data)."""


class TerminalError(Exception):
    """Marker: retrying the same call cannot succeed (bad input, policy refusal, conflict)."""


def is_retryable(exc: BaseException | None) -> bool:
    """Whether retrying can help: only errors marked transient, and unknown errors.

    Unknown exceptions (a driver's OperationalError, a dropped connection) are retried: the
    step's retry budget bounds them. Errors of the project say what they are by type.
    """
    return exc is not None and not isinstance(exc, TerminalError)


def is_terminal(exc: BaseException | None) -> bool:
    """Whether an error says a retry cannot help."""
    return isinstance(exc, TerminalError)


def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry unless the failure is marked terminal."""
    data = getattr(state, "data", None)
    if not isinstance(data, BaseException):  # a persisted result: ask the state for it
        data = state.result(raise_on_failure=False)
    return is_retryable(data if isinstance(data, BaseException) else None)
