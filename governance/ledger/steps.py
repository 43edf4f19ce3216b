"""Step results: one row per step outcome of a recovery run (a retry appends another)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.records import StepResult
from governance.ledger.rows import jsonable, to_record


@dataclass(frozen=True)
class StepLog(LedgerPart):
    """The step-results part of the ledger."""

    def record(
        self,
        incident_id: int,
        step_id: str,
        state: str,
        *,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        result: Any = None,
        flow_run_id: str | None = None,
    ) -> StepResult:
        """Append one step's outcome; `result` must be JSON-serialisable."""
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "flow_run_id": flow_run_id,
            "step_id": step_id,
            "state": state,
            "started_at": started_at,
            "ended_at": ended_at,
            "result": jsonable(result),
        }
        return StepResult(id=self._insert(t.step_results, row), **row)

    def of_incident(self, incident_id: int) -> list[StepResult]:
        """Every step result of an incident, in the order recorded."""
        s = t.step_results
        query = sa.select(s).where(s.c.incident_id == incident_id).order_by(s.c.id)
        with self.engine.connect() as conn:
            return [to_record(StepResult, r._mapping) for r in conn.execute(query)]
