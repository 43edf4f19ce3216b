"""The audit ledger: append-only records of incidents, steps, approvals, publications, notices.

Writers call one method per fact; nothing a later reader needs is updated in place, so the
story of an incident can always be told again (`runbook audit`). The incident's current
state is derived by query: its latest lifecycle event.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from foundation.errors import RecoveryError
from governance import ledger_schema as t
from governance.ledger_records import (
    LIFECYCLE,
    ApprovalAnswer,
    ApprovalRequest,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
    Publication,
    StepResult,
)

DECISIONS = ("approve", "reject")
_CREATE_LOCK = 0x1ED6E5  # advisory lock id serialising ledger DDL on PostgreSQL


class LedgerError(RecoveryError, LookupError):
    """A ledger lookup or write refers to something that is not there."""


class Ledger:
    """The audit ledger in one database (SQLite or PostgreSQL), optionally in its own schema."""

    def __init__(self, engine: Engine, schema: str | None = None, *, create: bool = True) -> None:
        self.schema = schema
        self.engine = (
            engine.execution_options(schema_translate_map={None: schema}) if schema else engine
        )
        if create:
            self.create()

    def create(self) -> None:
        """Create the schema (PostgreSQL) and missing tables; safe from many processes at once."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:  # one creator at a time, the others then see it
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_CREATE_LOCK)))
                if self.schema:
                    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                t.metadata.create_all(conn)
            return
        try:
            t.metadata.create_all(self.engine)
        except DBAPIError:  # another process created a table between check and create
            t.metadata.create_all(self.engine)

    @classmethod
    def from_url(cls, url: str, schema: str | None = None) -> Ledger:
        """A ledger at `url`, its tables created if missing."""
        return cls(sa.create_engine(url), schema)

    @classmethod
    def from_settings(cls) -> Ledger:
        """The configured audit database (RUNBOOK_AUDIT_URL, else the warehouse)."""
        from foundation.settings import get_settings

        return cls.from_url(get_settings().audit_url())

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    # -- incidents ----------------------------------------------------------------------------

    def open_incident(
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
        if event_id is not None and (existing := self.find_incident(event_id)) is not None:
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
                new_id = _new_id(conn.execute(sa.insert(t.incidents).values(row)))
                self._event(conn, new_id, IncidentState.OPENED, opened_at, None, None)
        except IntegrityError:  # another process opened it for the same event first
            found = self.find_incident(event_id) if event_id is not None else None
            if found is None:
                raise
            return found
        return self.incident(new_id)

    def incident(self, incident_id: int) -> Incident:
        """One incident; LedgerError if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.incidents).where(t.incidents.c.id == incident_id)
            ).first()
        if row is None:
            raise LedgerError(f"no incident {incident_id} in the ledger")
        return _incident(row._mapping)

    def find_incident(self, event_id: str) -> Incident | None:
        """The incident opened for a failure event, if any."""
        query = sa.select(t.incidents).where(t.incidents.c.event_id == event_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _incident(row._mapping)

    def incident_of_run(self, flow_run_id: str) -> Incident | None:
        """The incident a recovery flow run works on, if it opened one."""
        query = sa.select(t.incidents).where(t.incidents.c.flow_run_id == flow_run_id)
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(t.incidents.c.id)).first()
        return None if row is None else _incident(row._mapping)

    def record_state(
        self,
        incident_id: int,
        state: IncidentState | str,
        *,
        at: datetime | None = None,
        actor: str | None = None,
        detail: Any = None,
    ) -> None:
        """Append a state change or marker (e.g. `awaiting_approval`, `notified`)."""
        state = IncidentState(state)
        with self.engine.begin() as conn:
            self._event(conn, incident_id, state, at or _now(), actor, detail)

    def events(self, incident_id: int) -> list[IncidentEvent]:
        """All events of an incident in time order."""
        e = t.incident_events
        query = sa.select(e).where(e.c.incident_id == incident_id).order_by(e.c.at, e.c.id)
        with self.engine.connect() as conn:
            return [_event(r._mapping) for r in conn.execute(query)]

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
        return {
            float(ev.detail["threshold"])
            for ev in self.events(incident_id)
            if ev.state == IncidentState.SLA_THRESHOLD
            and isinstance(ev.detail, dict)
            and "threshold" in ev.detail
        }

    # -- steps --------------------------------------------------------------------------------

    def record_step_result(
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
            "result": _jsonable(result),
        }
        return StepResult(id=self._insert(t.step_results, row), **row)

    def step_results(self, incident_id: int) -> list[StepResult]:
        """Every step result of an incident, in the order recorded."""
        s = t.step_results
        query = sa.select(s).where(s.c.incident_id == incident_id).order_by(s.c.id)
        with self.engine.connect() as conn:
            return [_record(StepResult, r._mapping) for r in conn.execute(query)]

    # -- approvals ----------------------------------------------------------------------------

    def record_approval_request(
        self,
        incident_id: int,
        flow_run_id: str,
        pause_key: str,
        approvers: Iterable[str],
        *,
        min_approvals: int = 1,
        requested_at: datetime | None = None,
        escalate_at: datetime | None = None,
        timeout_at: datetime | None = None,
        step_id: str | None = None,
    ) -> ApprovalRequest:
        """Record a pause of a gate; recording the same (flow run, pause key) again returns it."""
        if min_approvals < 1:
            raise ValueError("min_approvals must be at least 1: never approve by default")
        existing = self.approval_request(flow_run_id, pause_key)
        if existing is not None:
            return existing
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "flow_run_id": flow_run_id,
            "pause_key": pause_key,
            "step_id": step_id,
            "requested_at": requested_at or _now(),
            "approvers": sorted(set(approvers)),
            "min_approvals": min_approvals,
            "escalate_at": escalate_at,
            "timeout_at": timeout_at,
        }
        with contextlib.suppress(IntegrityError):  # a concurrent writer: read theirs back
            self._insert(t.approval_requests, row)
        found = self.approval_request(flow_run_id, pause_key)
        assert found is not None
        return found

    def approval_request(self, flow_run_id: str, pause_key: str) -> ApprovalRequest | None:
        """The request recorded for one pause of one flow run."""
        r = t.approval_requests
        query = sa.select(r).where(r.c.flow_run_id == flow_run_id, r.c.pause_key == pause_key)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _request(row._mapping)

    def approval_requests(self, incident_id: int) -> list[ApprovalRequest]:
        """Every gate pause of an incident, oldest first."""
        r = t.approval_requests
        query = sa.select(r).where(r.c.incident_id == incident_id).order_by(r.c.id)
        with self.engine.connect() as conn:
            return [_request(row._mapping) for row in conn.execute(query)]

    def approval_requests_of_run(self, flow_run_id: str) -> list[ApprovalRequest]:
        """Every gate pause of one flow run, oldest first (what `runbook approve` answers)."""
        r = t.approval_requests
        query = sa.select(r).where(r.c.flow_run_id == flow_run_id).order_by(r.c.id)
        with self.engine.connect() as conn:
            return [_request(row._mapping) for row in conn.execute(query)]

    def record_answer(
        self,
        request_id: int,
        who: str,
        decision: str,
        *,
        authorized: bool,
        reason: str | None = None,
        comment: str | None = None,
        answered_at: datetime | None = None,
    ) -> ApprovalAnswer:
        """Append an answer, authorized or refused (then `reason` says why)."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if not authorized and not reason:
            raise ValueError("a refused answer needs the reason it was refused")
        row: dict[str, Any] = {
            "request_id": request_id,
            "who": who,
            "decision": decision,
            "comment": comment,
            "authorized": authorized,
            "reason": reason,
            "answered_at": answered_at or _now(),
        }
        return ApprovalAnswer(id=self._insert(t.approval_answers, row), **row)

    def answers(self, request_id: int) -> list[ApprovalAnswer]:
        """Answers to one request in the order given."""
        a = t.approval_answers
        query = sa.select(a).where(a.c.request_id == request_id).order_by(a.c.answered_at, a.c.id)
        with self.engine.connect() as conn:
            return [_record(ApprovalAnswer, r._mapping) for r in conn.execute(query)]

    # -- publications and notifications ------------------------------------------------------

    def record_publication(
        self,
        incident_id: int,
        pipeline: str,
        partition: str,
        kind: str,
        receipt_id: str,
        sha256: str,
        *,
        published_at: datetime | None = None,
        version: int | None = None,
    ) -> Publication:
        """Append what the portal accepted, with its receipt."""
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "pipeline": pipeline,
            "partition": partition,
            "kind": kind,
            "receipt_id": receipt_id,
            "sha256": sha256,
            "version": version,
            "published_at": published_at or _now(),
        }
        return Publication(id=self._insert(t.publications, row), **row)

    def publications(self, incident_id: int) -> list[Publication]:
        """Everything published for an incident."""
        p = t.publications
        query = sa.select(p).where(p.c.incident_id == incident_id).order_by(p.c.id)
        with self.engine.connect() as conn:
            return [_record(Publication, r._mapping) for r in conn.execute(query)]

    def record_notification(
        self,
        recipient: str,
        channel: str,
        reason: str,
        *,
        delivered: bool,
        incident_id: int | None = None,
        target: str | None = None,
        detail: str | None = None,
        sent_at: datetime | None = None,
    ) -> Notification:
        """Append one notification attempt, delivered or not (then `detail` says why)."""
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "recipient": recipient,
            "channel": channel,
            "target": target,
            "reason": reason,
            "sent_at": sent_at or _now(),
            "delivered": delivered,
            "detail": detail,
        }
        return Notification(id=self._insert(t.notifications, row), **row)

    def notifications(self, incident_id: int) -> list[Notification]:
        """Notifications about an incident, in the order sent."""
        n = t.notifications
        query = sa.select(n).where(n.c.incident_id == incident_id).order_by(n.c.sent_at, n.c.id)
        with self.engine.connect() as conn:
            return [_record(Notification, r._mapping) for r in conn.execute(query)]

    # -- views (in ledger_views) -------------------------------------------------------------

    def open_incidents(self, config: Any, now: datetime | None = None) -> list[Any]:
        """Unresolved incidents with owner, on-call, state and SLA; see `ledger_views`."""
        from governance.ledger_views import open_incidents

        return open_incidents(self, config, now or _now())

    def incident_story(self, incident_id: int) -> list[Any]:
        """Everything recorded about an incident in time order; see `ledger_views`."""
        from governance.ledger_views import incident_story

        return incident_story(self, incident_id)

    # -- internals ----------------------------------------------------------------------------

    def _insert(self, table: sa.Table, row: Mapping[str, Any]) -> int:
        with self.engine.begin() as conn:
            return _new_id(conn.execute(sa.insert(table).values(dict(row))))

    @staticmethod
    def _event(
        conn: Connection,
        incident_id: int,
        state: IncidentState,
        at: datetime,
        actor: str | None,
        detail: Any,
    ) -> None:
        text = None if detail is None else json.dumps(_jsonable(detail))
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "state": state.value,
            "at": at,
            "actor": actor,
        }
        conn.execute(sa.insert(t.incident_events).values(**row, detail=text))


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _now() -> datetime:
    return datetime.now(UTC)


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what is stored is what a reader gets back (dates as text)."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def _incident(row: Mapping[Any, Any]) -> Incident:
    return _record(Incident, row)


def _event(row: Mapping[Any, Any]) -> IncidentEvent:
    detail = row["detail"]
    return IncidentEvent(
        id=row["id"],
        incident_id=row["incident_id"],
        state=row["state"],
        at=row["at"],
        actor=row["actor"],
        detail=None if detail is None else json.loads(detail),
    )


def _request(row: Mapping[Any, Any]) -> ApprovalRequest:
    data = {k: v for k, v in row.items() if k != "recorded_at"}
    data["approvers"] = tuple(data["approvers"])
    return ApprovalRequest(**data)


def _record(cls: type, row: Mapping[Any, Any]) -> Any:
    return cls(**{k: v for k, v in row.items() if k != "recorded_at"})
