"""What became of every failure event: one row per event id, so none is lost silently.

The event door decides each `pipeline.failed` event once: it opened an incident, was attached
to an open one, was refused (with reasons), or was dropped as a byte-identical duplicate of
an event already counted. The row's primary key is the event id: a re-delivered event (a
reconnect's backfill, a restart) finds its row and is not decided twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.rows import jsonable, now


class Outcome(StrEnum):
    """The four ends of a failure event."""

    OPENED = "opened"
    ATTACHED = "attached"
    REFUSED = "refused"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class EventOutcome:
    """One failure event's accounting row."""

    event_id: str
    outcome: str
    pipeline: str
    partition: str | None
    kind: str | None
    incident_id: int | None
    digest: str
    source: str | None
    detail: Any
    at: datetime


@dataclass(frozen=True)
class EventOutcomeLog(LedgerPart):
    """The event door's accounting."""

    def record(self, outcome: EventOutcome) -> bool:
        """Write the event's outcome; False when the event was already accounted for."""
        row = {**outcome.__dict__, "detail": json.dumps(jsonable(outcome.detail))}
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(t.event_outcomes).values(row))
        except IntegrityError:
            return False
        return True

    def of_event(self, event_id: str) -> EventOutcome | None:
        """The recorded outcome of one event, if it was accounted for."""
        found = self._outcomes(t.event_outcomes.c.event_id == event_id)
        return found[0] if found else None

    def of_incident(self, incident_id: int) -> list[EventOutcome]:
        """Every event counted on an incident, oldest first."""
        return self._outcomes(t.event_outcomes.c.incident_id == incident_id)

    def digest_counted(self, incident_id: int, digest: str) -> bool:
        """Whether an event with these exact bytes was already counted on the incident."""
        o = t.event_outcomes
        query = sa.select(sa.literal(1)).where(o.c.incident_id == incident_id, o.c.digest == digest)
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def latest_refusal(self, pipeline: str) -> EventOutcome | None:
        """The newest refusal of events about `pipeline` (a burst's last one)."""
        o = t.event_outcomes
        query = (
            sa.select(o)
            .where(o.c.outcome == Outcome.REFUSED.value, o.c.pipeline == pipeline)
            .order_by(o.c.at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _record(row._mapping)

    def latest_time(self) -> datetime | None:
        """When the newest accounted event was decided (where the door's catch-up starts)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(t.event_outcomes.c.at))).scalar()

    def _outcomes(self, condition: Any) -> list[EventOutcome]:
        o = t.event_outcomes
        query = sa.select(o).where(condition).order_by(o.c.at, o.c.event_id)
        with self.engine.connect() as conn:
            return [_record(r._mapping) for r in conn.execute(query)]


def outcome_now(**fields: Any) -> EventOutcome:
    """An outcome decided now."""
    return EventOutcome(**{"at": now(), **fields})


def _record(row: Any) -> EventOutcome:
    data = dict(row)
    data["detail"] = None if data["detail"] is None else json.loads(data["detail"])
    return EventOutcome(**data)
