"""One error hierarchy for everything a runbook author can get wrong.

Every problem knows its file, line and column, so the message points at the exact spot in
the YAML; a file's problems are collected and reported together, not one per attempt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in a source file."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, at one place."""

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


def render_problems(problems: Sequence[Problem], *, tail: str = " found.") -> str:
    """Every problem, one block each, then a count line: `2 problems` followed by `tail`."""
    noun = "problem" if len(problems) == 1 else "problems"
    return "\n".join([*(p.render() for p in problems), f"{len(problems)} {noun}{tail}"])


class RunbookError(Exception):
    """Base of every error the runbook language raises."""


class RunbookValidationError(RunbookError):
    """A file (or several) failed validation; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.position))
        super().__init__(self.render())

    def render(self) -> str:
        """All problems, one block each, then `N problem(s) found.`"""
        return render_problems(self.problems)


class RunbookNotFoundError(RunbookError):
    """A runbook named on the command line does not exist."""


def display_path(path: Path | str) -> str:
    """A path relative to the working directory when it is below it, as users typed it."""
    path = Path(path)
    try:
        return os.path.relpath(path) if path.is_absolute() and _is_below_cwd(path) else str(path)
    except ValueError:
        return str(path)


def _is_below_cwd(path: Path) -> bool:
    try:
        path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return False
    return True
