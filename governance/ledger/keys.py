"""One open incident per (pipeline, partition), enforced by the database.

An event-driven recovery opens its incident and claims the key in one transaction; the
claim's primary key makes a second claim fail in the database, so two processes (two runs of
a flood that got past Prefect's trigger window, two servers) cannot both open one. The loser
attaches its event to the open incident (an `event_attached` marker with kind, time, event
id) and starts nothing. Resolving the incident releases the key (`IncidentLog.record_state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.incidents import IncidentLog, append_event
from governance.ledger.records import Incident, IncidentState, KeyedOpening
from governance.ledger.rows import new_id, now, to_record

CLAIM_ATTEMPTS = 3  # a key released between our failed insert and our read: try again


@dataclass(frozen=True)
class IncidentKeyLog(LedgerPart):
    """Claims of (pipeline, partition) keys: the de-duplication of failure events."""

    incidents: IncidentLog

    def open_or_attach(
        self,
        pipeline: str,
        partition: str,
        kind: str,
        opened_at: datetime,
        *,
        event_id: str | None = None,
        runbook: str | None = None,
        flow_run_id: str | None = None,
        attach_detail: dict[str, Any] | None = None,
    ) -> KeyedOpening:
        """Open the incident of (pipeline, partition) and claim its key, or attach to it.

        The same event id again returns its own incident (a re-delivered event, a retried
        run) as opened. `attach_detail` is added to the `event_attached` marker's detail.
        """
        if event_id is not None and (mine := self.incidents.find_by_event(event_id)) is not None:
            return KeyedOpening(mine, attached=False)
        row: dict[str, Any] = {
            "pipeline": pipeline,
            "kind": kind,
            "partition": partition,
            "event_id": event_id,
            "opened_at": opened_at,
            "runbook": runbook,
            "flow_run_id": flow_run_id,
        }
        for _ in range(CLAIM_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    incident_id = new_id(conn.execute(sa.insert(t.incidents).values(row)))
                    append_event(conn, incident_id, IncidentState.OPENED, opened_at, None, None)
                    claim = {"pipeline": pipeline, "partition": partition}
                    conn.execute(
                        sa.insert(t.incident_keys).values(
                            **claim, incident_id=incident_id, claimed_at=now()
                        )
                    )
                return KeyedOpening(self.incidents.get(incident_id), attached=False)
            except IntegrityError:
                if (
                    event_id is not None
                    and (mine := self.incidents.find_by_event(event_id)) is not None
                ):
                    return KeyedOpening(mine, attached=False)
            holder = self.open_incident_of(pipeline, partition)
            if holder is not None:
                detail = {
                    "event_id": event_id,
                    "kind": kind,
                    "occurred": opened_at.isoformat(),
                    "runbook": runbook,
                    "flow_run_id": flow_run_id,
                    **(attach_detail or {}),
                }
                self.incidents.record_state(
                    holder.id, IncidentState.EVENT_ATTACHED, at=opened_at, detail=detail
                )
                return KeyedOpening(holder, attached=True)
        raise RuntimeError(f"could not claim or find the open incident of {pipeline} {partition}")

    def open_incident_of(self, pipeline: str, partition: str) -> Incident | None:
        """The incident holding (pipeline, partition), if one is open."""
        keys, incidents = t.incident_keys, t.incidents
        query = (
            sa.select(incidents)
            .join(keys, keys.c.incident_id == incidents.c.id)
            .where(keys.c.pipeline == pipeline, keys.c.partition == partition)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else to_record(Incident, row._mapping)

    def attached_events(self, incident_id: int) -> list[dict[str, Any]]:
        """The further failure events attached to an incident, oldest first."""
        markers = self.incidents.events_where(
            t.incident_events.c.incident_id == incident_id,
            t.incident_events.c.state == IncidentState.EVENT_ATTACHED.value,
        )
        return [{"at": m.at, **(m.detail or {})} for m in markers]
