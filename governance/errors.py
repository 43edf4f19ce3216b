"""Positioned problems in the governance file, reported all together.

A wrong owner or a misspelt weekday decides who may approve a publication to investors, so
every message points at the exact line and column, with the source line and a caret.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong at one place of one file."""

    file: str
    position: Position
    path: str
    message: str
    source_line: str = ""

    def render(self) -> str:
        """`file:line:col: path: message`, then the source line and a caret under the column."""
        where = f"{self.file}:{self.position.line}:{self.position.column}"
        head = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if not self.source_line:
            return head
        caret = " " * (self.position.column - 1) + "^"
        return f"{head}\n    {self.source_line}\n    {caret}"


class GovernanceError(Exception):
    """Base of the governance package's errors."""


class GovernanceConfigError(GovernanceError):
    """The governance file is invalid; carries every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.position, p.path))
        super().__init__(self.render())

    def render(self) -> str:
        """All problems, one block each, then a count."""
        noun = "problem" if len(self.problems) == 1 else "problems"
        return "\n".join([*(p.render() for p in self.problems), f"{len(self.problems)} {noun}."])
