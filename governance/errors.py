"""Positioned problems in the governance file, reported all together.

A wrong owner or a misspelt weekday decides who may approve a publication to investors, so
every message points at the exact line and column, with the source line and a caret, as
runbook problems do (both use the foundation's `Problem`).
"""

from __future__ import annotations

from foundation.errors import RecoveryError
from foundation.problems import Position, Problem, ProblemsError

__all__ = ["GovernanceConfigError", "GovernanceError", "LedgerError", "Position", "Problem"]


class GovernanceError(RecoveryError):
    """Base of the governance package's errors."""


class GovernanceConfigError(GovernanceError, ProblemsError):
    """The governance file is invalid; carries every problem found, in file order."""

    tail = "."


class LedgerError(GovernanceError, LookupError):
    """A ledger lookup or write refers to something that is not there."""
