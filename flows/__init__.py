"""Runbooks, from the YAML an author writes to the Prefect flows that recover a pipeline.

Rooms, each importing only the ones after it:

- `operations`: the standing flows and services (SLA watch, incident sync, invariant sweep,
  crash and run watches, escalation, weekly report, event door, intake).
- `runtime`: what compiles a validated runbook into a Prefect flow and executes it (compiler,
  execution, step task wrapper, restart from the ledger, run services, orphan guard).
- `approval`: the gate a run pauses at, who may answer it, escalation.
- `events`: the failure event's contract, the door of every recovery run, partition locks.
- `pipelines`: the five pipelines as Prefect flows.
- `language`: the runbook language itself; pure (no Prefect, no database), so validating,
  planning and drawing a runbook start at once.
"""
