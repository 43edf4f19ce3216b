"""Read-side views of the ledger: the open incidents board and one incident's story.

They read through `LedgerReader`, the parts they need, so this module does not import the
`Ledger` that holds those parts (no circle between the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from foundation.visible import visible
from governance.ledger import schema as t
from governance.ledger.approvals import ApprovalLog
from governance.ledger.incidents import IncidentLog
from governance.ledger.notifications import NotificationLog
from governance.ledger.publications import PublicationLog
from governance.ledger.records import (
    LIFECYCLE,
    RESOLVED_STATES,
    Incident,
    IncidentState,
)
from governance.ledger.steps import StepLog
from governance.models import GovernanceConfig
from governance.oncall.schedule import NoRotationYet, OnCall, on_call_at
from governance.sla import SlaStatus, sla_status


class LedgerReader(Protocol):
    """What the views read: the engine and the parts of `Ledger` an incident's story needs."""

    @property
    def engine(self) -> Engine: ...
    @property
    def incidents(self) -> IncidentLog: ...
    @property
    def steps(self) -> StepLog: ...
    @property
    def approvals(self) -> ApprovalLog: ...
    @property
    def publications(self) -> PublicationLog: ...
    @property
    def notifications(self) -> NotificationLog: ...


_CONCLUSIONS = frozenset(
    {"approved", "rejected", "timed_out", "published", "failed", "resolved", "closed", "breached"}
)


@dataclass(frozen=True)
class OpenIncident:
    """An unresolved incident as the on-call engineer needs to see it."""

    incident: Incident
    state: str
    owners: tuple[str, ...]  # primary owner first; empty if the pipeline left governance
    on_call: OnCall | None  # None before the rotation starts
    sla: SlaStatus | None  # None if the pipeline is no longer in the governance file

    @property
    def on_call_people(self) -> tuple[str, ...]:
        """Who is on call and free, primary first (empty in a coverage gap)."""
        return self.on_call.people if self.on_call else ()


@dataclass(frozen=True)
class StoryLine:
    """One dated line of an incident's story."""

    at: datetime
    what: str
    detail: str


def open_incidents(
    ledger: LedgerReader, config: GovernanceConfig, now: datetime
) -> list[OpenIncident]:
    """Incidents whose latest lifecycle state is not resolved, oldest first."""
    e, i = t.incident_events, t.incidents
    ranked = (
        sa.select(
            e.c.incident_id,
            e.c.state,
            sa.func.row_number()
            .over(partition_by=e.c.incident_id, order_by=(e.c.at.desc(), e.c.id.desc()))
            .label("rn"),
        )
        .where(e.c.state.in_([s.value for s in LIFECYCLE]))
        .subquery()
    )
    query = (
        sa.select(i, ranked.c.state.label("current_state"))
        .join(ranked, ranked.c.incident_id == i.c.id)
        .where(ranked.c.rn == 1, ranked.c.state.not_in([s.value for s in RESOLVED_STATES]))
        .order_by(i.c.opened_at, i.c.id)
    )
    with ledger.engine.connect() as conn:
        rows = [r._mapping for r in conn.execute(query)]
    try:
        on_call: OnCall | None = on_call_at(config, now)
    except NoRotationYet:
        on_call = None
    board = []
    for row in rows:
        incident = Incident(**{k: row[k] for k in Incident.__dataclass_fields__})
        pipeline = config.pipelines.get(incident.pipeline)
        clock = None
        if pipeline is not None:
            clock = sla_status(incident.opened_at, pipeline.sla, now, config.sla_thresholds())
        owners = pipeline.owners if pipeline else ()
        board.append(OpenIncident(incident, row["current_state"], owners, on_call, clock))
    return board


def incident_story(ledger: LedgerReader, incident_id: int) -> list[StoryLine]:
    """Everything recorded about an incident, in time order (ties in the order recorded)."""
    inc = ledger.incidents.get(incident_id)
    where = f" partition {inc.partition}" if inc.partition else ""
    lines = [
        StoryLine(
            inc.opened_at,
            "opened",
            f"{inc.pipeline}{where}: {inc.kind}"
            + (f" (event {inc.event_id})" if inc.event_id else "")
            + (f"; runbook {inc.runbook}" if inc.runbook else "")
            + (f"; flow run {inc.flow_run_id}" if inc.flow_run_id else ""),
        )
    ]
    for ev in ledger.incidents.events(incident_id):
        if ev.state == IncidentState.OPENED:
            continue
        by = f"by {ev.actor}" if ev.actor else ""
        detail = "" if ev.detail is None else _compact(ev.detail)
        lines.append(StoryLine(ev.at, ev.state, "; ".join(x for x in (by, detail) if x)))
    for s in ledger.steps.of_incident(incident_id):
        at = s.ended_at or s.started_at or inc.opened_at
        result = "" if s.result is None else f": {_compact(s.result)}"
        lines.append(StoryLine(at, f"step {s.step_id}", f"{s.state}{result}"))
    for req in ledger.approvals.requests(incident_id):
        escalate = f"; escalate at {req.escalate_at:%Y-%m-%d %H:%M}Z" if req.escalate_at else ""
        lines.append(
            StoryLine(
                req.requested_at,
                "approval requested",
                f"{req.pause_key} of flow run {req.flow_run_id}: {req.min_approvals} of "
                f"{', '.join(req.approvers)}{escalate}",
            )
        )
        for ans in ledger.approvals.answers(req.id):
            verdict = "accepted" if ans.authorized else f"refused: {ans.reason}"
            comment = f' "{ans.comment}"' if ans.comment else ""
            lines.append(
                StoryLine(
                    ans.answered_at,
                    f"answer {ans.decision}",
                    f"{visible(ans.who)} ({verdict}){comment}",
                )
            )
    for p in ledger.publications.of_incident(incident_id):
        version = f" v{p.version}" if p.version is not None else ""
        lines.append(
            StoryLine(
                p.published_at,
                "portal receipt",
                f"{p.kind} {p.pipeline}/{p.partition}{version} receipt "
                f"{p.receipt_id} sha256 {p.sha256[:12]}",
            )
        )
    for n in ledger.notifications.of_incident(incident_id):
        status = "delivered" if n.delivered else f"not delivered: {n.detail or 'unknown'}"
        lines.append(
            StoryLine(n.sent_at, f"notified {n.recipient}", f"{n.channel} ({n.reason}): {status}")
        )
    # at the same instant, facts (answers, receipts) come before the states they lead to
    return sorted(lines, key=lambda line: (line.at, line.what in _CONCLUSIONS))


def _compact(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
