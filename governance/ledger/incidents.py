"""Incidents and their events: open one per failure event, append states and markers, and
read the current state (the latest lifecycle event) back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from governance.errors import LedgerError
from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.records import (
    LIFECYCLE,
    RESOLVED_STATES,
    Incident,
    IncidentEvent,
    IncidentState,
)
from governance.ledger.rows import jsonable, new_id, now, to_event, to_record


@dataclass(frozen=True)
class IncidentLog(LedgerPart):
    """The incidents part of the ledger."""

    def open(
        self,
        pipeline: str,
        kind: str,
        opened_at: datetime,
        *,
        partition: str | None = None,
        event_id: str | None = None,
        runbook: str | None = None,
        flow_run_id: str | None = None,
    ) -> Incident:
        """Open an incident (and its `opened` event); the same event id returns the same one."""
        if event_id is not None and (existing := self.find_by_event(event_id)) is not None:
            return existing
        row: dict[str, Any] = {
            "pipeline": pipeline,
            "kind": kind,
            "partition": partition,
            "event_id": event_id,
            "opened_at": opened_at,
            "runbook": runbook,
            "flow_run_id": flow_run_id,
        }
        try:
            with self.engine.begin() as conn:
                incident_id = new_id(conn.execute(sa.insert(t.incidents).values(row)))
                append_event(conn, incident_id, IncidentState.OPENED, opened_at, None, None)
        except IntegrityError:  # another process opened it for the same event first
            found = self.find_by_event(event_id) if event_id is not None else None
            if found is None:
                raise
            return found
        return self.get(incident_id)

    def get(self, incident_id: int) -> Incident:
        """One incident; LedgerError if unknown."""
        found = self._one(t.incidents.c.id == incident_id)
        if found is None:
            raise LedgerError(f"no incident {incident_id} in the ledger")
        return found

    def find_by_event(self, event_id: str) -> Incident | None:
        """The incident opened for a failure event, if any."""
        return self._one(t.incidents.c.event_id == event_id)

    def of_run(self, flow_run_id: str) -> Incident | None:
        """The incident a recovery flow run works on, if it opened one."""
        return self._one(t.incidents.c.flow_run_id == flow_run_id)

    def record_state(
        self,
        incident_id: int,
        state: IncidentState | str,
        *,
        at: datetime | None = None,
        actor: str | None = None,
        detail: Any = None,
    ) -> None:
        """Append a state change or marker (e.g. `awaiting_approval`, `notified`).

        A resolving state also releases the incident's (pipeline, partition) key, in the same
        transaction: the next failure of that partition opens a new incident.
        """
        state = IncidentState(state)
        with self.engine.begin() as conn:
            append_event(conn, incident_id, state, at or now(), actor, detail)
            if state in RESOLVED_STATES:
                keys = t.incident_keys
                conn.execute(sa.delete(keys).where(keys.c.incident_id == incident_id))

    def events(self, incident_id: int) -> list[IncidentEvent]:
        """All events of an incident in time order."""
        return self.events_where(t.incident_events.c.incident_id == incident_id)

    def current_state(self, incident_id: int) -> str:
        """The latest lifecycle state (markers such as `notified` do not count)."""
        e = t.incident_events
        query = (
            sa.select(e.c.state)
            .where(e.c.incident_id == incident_id, e.c.state.in_([s.value for s in LIFECYCLE]))
            .order_by(e.c.at.desc(), e.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            state = conn.execute(query).scalar()
        if state is None:
            raise LedgerError(f"no incident {incident_id} in the ledger")
        return str(state)

    def notified_thresholds(self, incident_id: int) -> set[float]:
        """SLA thresholds already notified (from `sla_threshold` markers' `threshold`)."""
        e = t.incident_events
        markers = self.events_where(
            e.c.incident_id == incident_id, e.c.state == IncidentState.SLA_THRESHOLD.value
        )
        return {
            float(ev.detail["threshold"])
            for ev in markers
            if isinstance(ev.detail, dict) and "threshold" in ev.detail
        }

    def _one(self, condition: Any) -> Incident | None:
        query = sa.select(t.incidents).where(condition).order_by(t.incidents.c.id).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else to_record(Incident, row._mapping)

    def events_where(self, *conditions: Any) -> list[IncidentEvent]:
        e = t.incident_events
        query = sa.select(e).where(*conditions).order_by(e.c.at, e.c.id)
        with self.engine.connect() as conn:
            return [to_event(r._mapping) for r in conn.execute(query)]


def append_event(
    conn: Connection,
    incident_id: int,
    state: IncidentState,
    at: datetime,
    actor: str | None,
    detail: Any,
) -> None:
    text = None if detail is None else json.dumps(jsonable(detail))
    row = {"incident_id": incident_id, "state": state.value, "at": at, "actor": actor}
    conn.execute(sa.insert(t.incident_events).values(**row, detail=text))
