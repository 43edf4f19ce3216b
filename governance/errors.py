"""Positioned problems in the governance file, reported all together.

A wrong owner or a misspelt weekday decides who may approve a publication to investors, so
every message points at the exact line and column, with the source line and a caret. The
`Position` and `Problem` are the runbook language's, so both files report alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from flows.language.errors import Position, Problem, render_problems

__all__ = ["GovernanceConfigError", "GovernanceError", "Position", "Problem"]


class GovernanceError(Exception):
    """Base of the governance package's errors."""


class GovernanceConfigError(GovernanceError):
    """The governance file is invalid; carries every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.position, p.path))
        super().__init__(self.render())

    def render(self) -> str:
        """All problems, one block each, then `N problem(s).`"""
        return render_problems(self.problems, tail=".")
