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

    def refusals_in_burst(self, incident_id: int, source: str | None, cap: int) -> tuple[int, int]:
        """(refusals of `source`, refusals in all) counted on a burst's incident, each counted
        up to `cap` only, so the cost stays bounded however long the burst."""
        o = t.event_outcomes

        def capped(*conditions: Any) -> sa.ScalarSelect[Any]:
            rows = sa.select(sa.literal(1)).where(o.c.incident_id == incident_id, *conditions)
            return (
                sa.select(sa.func.count()).select_from(rows.limit(cap).subquery()).scalar_subquery()
            )

        query = sa.select(capped(o.c.source == source), capped())
        with self.engine.connect() as conn:
            by_source, in_all = conn.execute(query).one()
        return int(by_source), int(in_all)

    def burst(self, incident_id: int, top: int = 5) -> RefusalBurst | None:
        """What a burst of refusals counted (None: the incident counted no refusal)."""
        o = t.event_outcomes
        refused = sa.and_(o.c.incident_id == incident_id, o.c.outcome == Outcome.REFUSED.value)
        limited = sa.case((o.c.detail.like('%"limited"%'), 1), else_=0)
        totals = sa.select(
            sa.func.count(),
            sa.func.count(sa.distinct(o.c.source)),
            sa.func.coalesce(sa.func.sum(limited), 0),
            sa.func.min(o.c.at),
            sa.func.max(o.c.at),
        ).where(refused)
        sources = (
            sa.select(o.c.source, sa.func.count().label("n"))
            .where(refused)
            .group_by(o.c.source)
            .order_by(sa.desc("n"), o.c.source)
            .limit(top)
        )
        with self.engine.connect() as conn:
            count, distinct, over, first, last = conn.execute(totals).one()
            busiest = [(str(s), int(n)) for s, n in conn.execute(sources)]
        if not count:
            return None
        return RefusalBurst(int(count), int(distinct), int(over), first, last, busiest)

    def latest_time(self) -> datetime | None:
        """When the newest accounted event was decided (where the door's catch-up starts)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(t.event_outcomes.c.at))).scalar()

    def _outcomes(self, condition: Any) -> list[EventOutcome]:
        o = t.event_outcomes
        query = sa.select(o).where(condition).order_by(o.c.at, o.c.event_id)
        with self.engine.connect() as conn:
            return [_record(r._mapping) for r in conn.execute(query)]


@dataclass(frozen=True)
class RefusalBurst:
    """A burst of refused events folded into one incident: how many, from whom, when."""

    count: int
    sources: int
    limited: int  # over the per-source or per-pipeline limit: counted, reasons not kept
    first: datetime
    last: datetime
    busiest: list[tuple[str, int]]  # the sources that sent the most, with their counts

    def summary(self) -> str:
        """One line for `runbook audit`."""
        who = ", ".join(f"{source} ({n})" for source, n in self.busiest)
        return (
            f"{self.count} refused event(s) from {self.sources} source(s), "
            f"{self.first:%Y-%m-%d %H:%M:%S}Z to {self.last:%Y-%m-%d %H:%M:%S}Z; "
            f"{self.limited} over the refusal limits (counted, reasons not kept); most: {who}"
        )


def outcome_now(**fields: Any) -> EventOutcome:
    """An outcome decided now."""
    return EventOutcome(**{"at": now(), **fields})


def _record(row: Any) -> EventOutcome:
    data = dict(row)
    data["detail"] = None if data["detail"] is None else json.loads(data["detail"])
    return EventOutcome(**data)
