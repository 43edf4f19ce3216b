"""Line diffs the approver reads: what a new report or feed changes against the published one."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

DIFF_LINES = 40


@dataclass(frozen=True)
class LineDiff:
    """A unified diff (cut to `DIFF_LINES` lines) and how many lines it adds and removes."""

    lines: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0


def line_diff(old: list[str], new: list[str]) -> LineDiff:
    """The published lines against the new ones, without context lines."""
    diff = list(difflib.unified_diff(old, new, "published", "new", lineterm="", n=0))
    return LineDiff(
        lines=diff[:DIFF_LINES],
        added=sum(1 for d in diff if d.startswith("+") and not d.startswith("+++")),
        removed=sum(1 for d in diff if d.startswith("-") and not d.startswith("---")),
    )


def readable_feed(feed: Any) -> list[str]:
    """A feed as indented JSON lines with sorted keys, so a diff shows changed values only."""
    return json.dumps(feed, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
