"""The demo's one error: a chapter of the story did not go as the story needs."""

from __future__ import annotations

from foundation.errors import RecoveryError


class DemoError(RecoveryError, RuntimeError):
    """A demo step did not go as the story needs."""
