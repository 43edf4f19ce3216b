"""Run one `runbook` command in a fresh interpreter and say which modules it loaded.

A command's start-up cost is what it imports, so the tests ask the process itself: the
command runs in `python -c`, then the process writes its exit code and the names of the
loaded modules that matter (Prefect, database libraries, the CLI's own command modules).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("prefect", "sqlalchemy", "alembic")

_RUN = """
import json, sys
from runbook_cli.main import app
out, args = sys.argv[1], sys.argv[2:]
try:
    app(args)
    code = 0
except SystemExit as stop:
    code = stop.code or 0
heavy = %r
loaded = sorted(
    m for m in sys.modules if m.split(".")[0] in heavy or m.startswith("runbook_cli.")
)
with open(out, "w") as f:
    json.dump({"code": code, "loaded": loaded}, f)
"""


@dataclass(frozen=True)
class Started:
    """What a command's process did: its exit code, what it printed, what it loaded."""

    code: int
    output: str
    loaded: frozenset[str]

    @property
    def heavy(self) -> list[str]:
        """The top-level heavy packages it imported (Prefect, SQLAlchemy, Alembic)."""
        return sorted({m.split(".")[0] for m in self.loaded} & set(HEAVY))


def start(args: list[str], report: Path) -> Started:
    """Run `runbook ARGS` in a new interpreter at the project's root."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN % (HEAVY,), str(report), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if not report.exists():
        raise AssertionError(f"runbook {' '.join(args)} did not finish: {done.stderr}")
    found = json.loads(report.read_text(encoding="utf-8"))
    return Started(found["code"], done.stdout + done.stderr, frozenset(found["loaded"]))
