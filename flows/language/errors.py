"""Errors of the runbook language: every problem at its file, line and column, all at once."""

from __future__ import annotations

from foundation.errors import RecoveryError, TerminalError
from foundation.problems import Position, Problem, ProblemsError, display_path, render_problems

__all__ = [
    "Position",
    "Problem",
    "RunbookError",
    "RunbookNotFoundError",
    "RunbookValidationError",
    "display_path",
    "render_problems",
]


class RunbookError(RecoveryError):
    """Base of every error the runbook language raises."""


class RunbookValidationError(RunbookError, ProblemsError):
    """A file (or several) failed validation; carries every problem found."""


class RunbookNotFoundError(RunbookError, TerminalError):
    """A runbook named on the command line does not exist."""
