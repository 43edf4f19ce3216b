"""The incident a run works on, as a value: built in one place, read as `incident.*`.

The recorder hands a run an `IncidentRef` when it opens, claims, resumes or finds again the
run's incident; the door's admission carries it to the execution, which gives templates and
steps its `namespace()`. A claim that lost to an open incident is a `Claim` with `attached`
set, never a flag inside the namespace; a person's `runbook retry` is a `Retry`, the flow's
`incident` parameter parsed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from governance.ledger.records import Incident
from governance.models import GovernanceConfig


@dataclass(frozen=True)
class IncidentRef:
    """One incident as a run sees it: the ledger's record, its SLA and the starting event."""

    id: int
    pipeline: str
    kind: str
    partition: str | None
    opened_at: datetime
    sla: timedelta | None
    event: str | None  # the name of the event that started the run
    event_id: str | None
    detail: Any  # the event payload's `detail`

    @classmethod
    def of(
        cls, incident: Incident, event: Mapping[str, Any], config: GovernanceConfig
    ) -> IncidentRef:
        """The reference to `incident`, worked on for `event` under `config`'s SLAs."""
        pipeline = config.pipelines.get(incident.pipeline)
        payload = event.get("payload") or {}
        return cls(
            id=incident.id,
            pipeline=incident.pipeline,
            kind=incident.kind,
            partition=incident.partition,
            opened_at=incident.opened_at,
            sla=pipeline.sla if pipeline is not None else None,
            event=event.get("event"),
            event_id=incident.event_id,
            detail=payload.get("detail") if isinstance(payload, Mapping) else None,
        )

    @property
    def deadline(self) -> datetime | None:
        """When the SLA is breached (None: the pipeline has no SLA)."""
        return self.opened_at + self.sla if self.sla is not None else None

    def namespace(self) -> dict[str, Any]:
        """What templates and the gate's evidence read as `incident.*` (JSON types)."""
        deadline = self.deadline
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "kind": self.kind,
            "partition": self.partition,
            "opened_at": self.opened_at.isoformat(),
            "sla_seconds": self.sla.total_seconds() if self.sla is not None else None,
            "deadline": deadline.isoformat() if deadline is not None else None,
            "event": self.event,
            "event_id": self.event_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Claim:
    """What claiming an event's (pipeline, partition) key gave the run.

    `attached`: the key was held by another open incident (`incident`); the event was
    recorded there and this run must start nothing.
    """

    incident: IncidentRef
    attached: bool


@dataclass(frozen=True)
class Retry:
    """A person's `runbook retry` of an open incident: same incident, same SLA clock."""

    incident_id: int
    by: str | None = None
    reason: str | None = None

    def as_parameter(self) -> dict[str, Any]:
        """The flow's `incident` parameter that asks for this retry."""
        return {"id": self.incident_id, "retry": {"by": self.by, "reason": self.reason}}

    @classmethod
    def from_parameter(cls, value: Mapping[str, Any] | None) -> Retry | None:
        """The retry the flow's `incident` parameter asks for (None: none asked).

        Raises:
            ValueError: the parameter is given but is not a retry of an incident id.
        """
        if not value:
            return None
        retry, incident_id = value.get("retry"), value.get("id")
        if not isinstance(retry, Mapping) or isinstance(incident_id, bool):
            raise ValueError(
                f"the flow's `incident` parameter {dict(value)!r} is not a retry: pass "
                '{"id": N, "retry": {"by": WHO, "reason": WHY}} (what `runbook retry N` sends)'
            )
        try:
            number = int(incident_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(
                f"the flow's `incident` parameter names no incident id ({incident_id!r}): "
                "pass the number `runbook incidents` lists"
            ) from None
        by, reason = retry.get("by"), retry.get("reason")
        return cls(number, str(by) if by else None, str(reason) if reason else None)
