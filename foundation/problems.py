"""Problems in hand-written files, each at a file, line and column, reported all together.

Runbooks and the governance file are both edited by people; every mistake points at the exact
spot with the source line and a caret, and a file's problems come out at once, not one per try.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from foundation.errors import RecoveryError, TerminalError


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


class ProblemsError(RecoveryError, TerminalError):
    """A file (or several) is invalid; carries every problem found, in file order."""

    tail = " found."

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.position, p.path))
        super().__init__(self.render())

    def render(self) -> str:
        """All problems, one block each, then the count line."""
        return render_problems(self.problems, tail=self.tail)


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
