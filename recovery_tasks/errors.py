"""How a step says it failed: terminal errors end the step at once, a closed gate ends the run."""

from __future__ import annotations

from typing import Any

from foundation.errors import RecoveryError, TerminalError


class StepError(RecoveryError):
    """Base of the errors step types raise on purpose."""


class TerminalStepError(StepError, TerminalError):
    """A failure that a retry cannot fix (bad params, a policy refusal); never retried."""


class GateClosed(StepError, TerminalError):
    """An approval gate said no (rejected, timed out): the run stops, nothing is published."""

    def __init__(self, message: str, outputs: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.outputs = outputs or {}
