"""What a flow run already did, read back from the ledger when the run starts again.

A run starts again from the top of its flow in two cases: a gate suspended it (Prefect's
`suspend_flow_run` frees the process and reschedules the run when the answer arrives) and a
crash (the incident sync reschedules a crashed run once). Steps the run already finished must
not run again: a second transform could produce a report other than the one the approver
saw, and a second publish is never wanted.

Why the ledger and not Prefect's result cache (persisted task results keyed by flow run, step
and rendered params): the ledger already holds every step's outcome, written as the step
ended, and it is the record the gate's evidence was built from, so the steps after the gate
continue from exactly what the approver read. It lives in the audit database every process
of the deployment shares (PostgreSQL in production), so a run resumed by another worker
finds it, with no result storage to configure and nothing pickled. And the gate's answers
live there too (`flows.approval.gate` replays them), so one record serves both.

Restored: `completed` and `skipped` outcomes of this flow run (the latest of each step); a
step that failed, or was running when the process died, runs again (steps are idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable

from governance.ledger.records import StepResult
from recovery_tasks.context import StepOutcome

RESTORABLE = ("completed", "skipped")


def restored_outcomes(
    results: Iterable[StepResult], step_ids: Iterable[str]
) -> dict[str, StepOutcome]:
    """The outcomes to restore, by step id, from this run's recorded step results."""
    wanted = set(step_ids)
    latest: dict[str, StepResult] = {}
    for result in results:
        if result.step_id in wanted:
            latest[result.step_id] = result
    return {
        step_id: _outcome(result)
        for step_id, result in latest.items()
        if result.state in RESTORABLE
    }


def _outcome(result: StepResult) -> StepOutcome:
    recorded = result.result if isinstance(result.result, dict) else {}
    return StepOutcome(
        result.state,  # type: ignore[arg-type]
        recorded.get("outputs"),
        recorded.get("message"),
        result.started_at,
        result.ended_at,
    )
