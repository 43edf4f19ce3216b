"""The incident a runbook run works on: opened from the failure event, told what happens.

A run opens (or, for the same event, re-finds) its incident in the audit ledger before any
step runs; each step's outcome and each state change is appended, so `runbook audit` can
tell the whole story later even if the flow's process is gone. The recorder is the one
writer of an incident's story: the execution, the gate, publish and notify all go through it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from governance.ledger import Ledger
from governance.ledger_records import Incident, IncidentState
from governance.models import GovernanceConfig

FLOW_RUN_FAILED = "prefect.flow-run.Failed"


class IncidentRecorder:
    """Writes one run's incident story to the ledger."""

    def __init__(self, ledger: Ledger, config: GovernanceConfig) -> None:
        self.ledger = ledger
        self.config = config
        self.incident_id: int | None = None
        self.flow_run_id: str | None = None

    def open(
        self,
        runbook: str,
        pipeline: str,
        event: dict[str, Any],
        params: dict[str, Any],
        flow_run_id: str | None,
    ) -> dict[str, Any]:
        """Open the incident at the event's time; return the `incident` template namespace."""
        payload = event.get("payload") or {}
        opened_at = _event_time(event)
        incident = self.ledger.open_incident(
            pipeline,
            str(
                payload.get("kind")
                or ("etl_job_failure" if event.get("event") == FLOW_RUN_FAILED else "manual")
            ),
            opened_at,
            partition=str(params.get("partition") or payload.get("partition") or "") or None,
            event_id=str(event["id"]) if event.get("id") else None,
            runbook=runbook,
            flow_run_id=flow_run_id,
        )
        self.incident_id, self.flow_run_id = incident.id, flow_run_id
        self.ledger.record_state(
            incident.id,
            IncidentState.RECOVERING,
            detail={"runbook": runbook, "flow_run_id": flow_run_id},
        )
        return self._namespace(incident, event)

    def resume(
        self,
        incident_id: int,
        runbook: str,
        event: dict[str, Any],
        flow_run_id: str | None,
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Work on an open incident again (`runbook retry`): same incident, same SLA clock.

        Records who retried and why as the incident's return to `recovering`; returns the
        `incident` template namespace, as `open` does.
        """
        incident = self.ledger.incident(incident_id)
        self.incident_id, self.flow_run_id = incident.id, flow_run_id
        self.ledger.record_state(
            incident.id,
            IncidentState.RECOVERING,
            actor=by,
            detail={
                "retry": True,
                "reason": reason,
                "runbook": runbook,
                "flow_run_id": flow_run_id,
            },
        )
        return self._namespace(incident, event)

    def _namespace(self, incident: Incident, event: dict[str, Any]) -> dict[str, Any]:
        payload = event.get("payload") or {}
        sla = self.config.pipeline(incident.pipeline).sla
        return {
            "id": incident.id,
            "pipeline": incident.pipeline,
            "kind": incident.kind,
            "partition": incident.partition,
            "opened_at": incident.opened_at.isoformat(),
            "sla_seconds": sla.total_seconds(),
            "deadline": (incident.opened_at + sla).isoformat(),
            "event": event.get("event"),
            "detail": payload.get("detail"),
        }

    def step(
        self,
        step_id: str,
        state: str,
        *,
        outputs: dict[str, Any] | None = None,
        message: str | None = None,
        started: datetime | None = None,
        ended: datetime | None = None,
    ) -> None:
        """Append a step's outcome."""
        if self.incident_id is None:
            return
        self.ledger.record_step_result(
            self.incident_id,
            step_id,
            state,
            started_at=started,
            ended_at=ended,
            result={"outputs": outputs, "message": message},
            flow_run_id=self.flow_run_id,
        )

    def publication(
        self,
        pipeline: str,
        partition: str,
        kind: str,
        receipt: str,
        sha256: str,
        *,
        version: int | None = None,
    ) -> None:
        """Append what reached the investor portal."""
        if self.incident_id is not None:
            self.ledger.record_publication(
                self.incident_id, pipeline, partition, kind, receipt, sha256, version=version
            )

    def state(
        self, state: IncidentState | str, *, actor: str | None = None, detail: Any = None
    ) -> None:
        """Append a lifecycle state or marker."""
        if self.incident_id is not None:
            self.ledger.record_state(self.incident_id, state, actor=actor, detail=detail)


def _event_time(event: dict[str, Any]) -> datetime:
    occurred = event.get("occurred")
    if isinstance(occurred, str):
        try:
            parsed = datetime.fromisoformat(occurred.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def sla_left(incident: dict[str, Any], now: datetime | None = None) -> timedelta | None:
    """Time left before the incident's SLA deadline (negative once breached)."""
    deadline = incident.get("deadline")
    if not deadline:
        return None
    return datetime.fromisoformat(deadline) - (now or datetime.now(UTC))
