"""The declared outcome of each rehearsal cell (`rehearsal/expectations.yaml`), and ranks.

The file says the default outcome and the exceptions per variant and scenario (for all
pipelines, or per pipeline), each exception with why. Loading checks it against the fault
catalog and the pipeline registry, so a typo is an error, not a silently missing exception.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from faults.catalog import VARIANTS
from rehearsal.cells import SCENARIOS, Cell
from warehouse.pipelines import registry

EXPECTATIONS_PATH = Path(__file__).with_name("expectations.yaml")


class Outcome(StrEnum):
    """How a cell ended, best first."""

    RECOVERED = "RECOVERED"
    FAILED_SAFE = "FAILED-SAFE"
    WRONG = "WRONG"

    @property
    def rank(self) -> int:
        """Higher is better."""
        return {"RECOVERED": 2, "FAILED-SAFE": 1, "WRONG": 0}[self.value]


class ExpectationsError(ValueError):
    """The expectations file names something that does not exist, or declares WRONG."""


class Expectations:
    """Declared outcomes, with the reason given for each exception."""

    def __init__(self, data: dict[str, Any], source: str = str(EXPECTATIONS_PATH)) -> None:
        self.default = _outcome(data.get("default", "RECOVERED"), source, "default")
        self._cells: dict[tuple[str, str, str], tuple[Outcome, str]] = {}
        variants = {v for vs in VARIANTS.values() for v in vs}
        for variant, scenarios in (data.get("cells") or {}).items():
            if variant not in variants:
                raise ExpectationsError(f"{source}: cells.{variant}: unknown fault variant")
            for scenario, spec in scenarios.items():
                where = f"{source}: cells.{variant}.{scenario}"
                if scenario not in SCENARIOS:
                    raise ExpectationsError(f"{where}: unknown scenario; known: {SCENARIOS}")
                self._read(variant, scenario, dict(spec), where)

    def _read(self, variant: str, scenario: str, spec: dict[str, Any], where: str) -> None:
        why = str(spec.pop("why", ""))
        for name, value in spec.items():
            pipelines = list(registry) if name == "all" else [name]
            if name != "all" and name not in registry:
                raise ExpectationsError(f"{where}.{name}: unknown pipeline")
            outcome = _outcome(value, where, name)
            for pipeline in pipelines:
                self._cells[(pipeline, variant, scenario)] = (outcome, why)

    def expected(self, cell: Cell) -> Outcome:
        """The declared outcome of `cell`."""
        return self._cells.get((cell.pipeline, cell.variant, cell.scenario), (self.default,))[0]

    def why(self, cell: Cell) -> str:
        """The reason given for a declared exception ('' for the default)."""
        found = self._cells.get((cell.pipeline, cell.variant, cell.scenario))
        return found[1] if found else ""


def _outcome(value: Any, where: str, name: str) -> Outcome:
    try:
        outcome = Outcome(str(value))
    except ValueError:
        known = ", ".join(o.value for o in Outcome if o is not Outcome.WRONG)
        raise ExpectationsError(f"{where}.{name}: {value!r} is no outcome; use {known}") from None
    if outcome is Outcome.WRONG:
        raise ExpectationsError(f"{where}.{name}: WRONG is never an acceptable outcome")
    return outcome


def load_expectations(path: Path = EXPECTATIONS_PATH) -> Expectations:
    """The declared outcomes in `path`."""
    return Expectations(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, str(path))
