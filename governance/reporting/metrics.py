"""Incident metrics from the ledger, computed by the database in one query.

Per pipeline and failure kind (and over all incidents), for incidents opened in a window:
how many; the time from the failure to detection (the recovery run opened the incident), to
evidence ready (the gate showed it), to the first authorized answer, to approval and to the
republished output, each as median and worst; SLA met and missed (the pipeline's SLA from the
governance file, passed in as a CASE); escalations, refused answers and rejections.

Every time is measured from the failure (`opened_at`, the failure event's time), so the
columns read as a timeline. Medians are taken with window functions (row_number/count), which
SQLite and PostgreSQL both have; nothing is looped over in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance.ledger import schema as t
from governance.ledger.records import RESOLVED_STATES
from governance.ledger.sql_time import seconds_between
from governance.models import GovernanceConfig

ALL = "(all)"
TIMINGS = {  # column -> the incident event (or answer) that ends it
    "detect": "detected",
    "evidence": "evidence ready",
    "first_answer": "first answer",
    "approval": "approved",
    "republish": "republished",
}


@dataclass(frozen=True)
class Timing:
    """Median and worst of one duration over a group's incidents, in seconds (None: none)."""

    median: float | None
    worst: float | None


@dataclass(frozen=True)
class MetricsRow:
    """One pipeline and failure kind (or `(all)`)."""

    pipeline: str
    kind: str
    incidents: int
    timings: dict[str, Timing]
    sla_met: int
    sla_missed: int
    escalations: int
    refusals: int
    rejections: int

    @property
    def sla_open(self) -> int:
        """Incidents still open within their SLA (neither met nor missed yet)."""
        return self.incidents - self.sla_met - self.sla_missed


@dataclass(frozen=True)
class IncidentReport:
    """The metrics of incidents opened in [since, until]."""

    since: datetime
    until: datetime
    rows: list[MetricsRow]


def incident_report(
    engine: Engine, config: GovernanceConfig, since: datetime, until: datetime
) -> IncidentReport:
    """The metrics of incidents opened between `since` and `until` (the report's now)."""
    query = _metrics_query(config, since, until)
    with engine.connect() as conn:
        rows = [_row(r._mapping) for r in conn.execute(query)]
    return IncidentReport(since, until, rows)


def _per_incident(config: GovernanceConfig, since: datetime, until: datetime) -> sa.CTE:
    """One row per incident: its durations, SLA verdict and counts."""
    e, i, r, a = t.incident_events, t.incidents, t.approval_requests, t.approval_answers

    def first(*states: str) -> Any:
        return sa.func.min(sa.case((e.c.state.in_(states), e.c.at)))

    def count(state: str) -> Any:
        return sa.func.sum(sa.case((e.c.state == state, 1), else_=0))

    events = (
        sa.select(
            e.c.incident_id,
            first("recovering").label("detected_at"),
            first("awaiting_approval").label("evidence_at"),
            first("approved").label("approved_at"),
            first("published").label("published_at"),
            first(*RESOLVED_STATES).label("resolved_at"),
            count("escalated").label("escalations"),
            count("breached").label("breaches"),
            count("rejected").label("rejections"),
        )
        .group_by(e.c.incident_id)
        .subquery("events")
    )
    answers = (
        sa.select(
            r.c.incident_id,
            sa.func.min(sa.case((a.c.authorized, a.c.answered_at))).label("answered_at"),
            sa.func.sum(sa.case((a.c.authorized, 0), else_=1)).label("refusals"),
        )
        .select_from(r.join(a, a.c.request_id == r.c.id))
        .group_by(r.c.incident_id)
        .subquery("answers")
    )
    now = sa.bindparam("until", until, type_=t.UtcDateTime())
    sla = sa.case(
        {name: p.sla.total_seconds() for name, p in config.pipelines.items()},
        value=i.c.pipeline,
        else_=sa.null(),
    )
    resolve = seconds_between(i.c.opened_at, events.c.resolved_at)
    breaches = sa.func.coalesce(events.c.breaches, 0)
    met = sa.and_(resolve.is_not(None), resolve <= sla, breaches == 0)
    missed = sa.or_(
        breaches > 0,
        resolve > sla,
        sa.and_(resolve.is_(None), seconds_between(i.c.opened_at, now) > sla),
    )
    return (
        sa.select(
            i.c.pipeline,
            i.c.kind,
            seconds_between(i.c.opened_at, events.c.detected_at).label("detect"),
            seconds_between(i.c.opened_at, events.c.evidence_at).label("evidence"),
            seconds_between(i.c.opened_at, answers.c.answered_at).label("first_answer"),
            seconds_between(i.c.opened_at, events.c.approved_at).label("approval"),
            seconds_between(i.c.opened_at, events.c.published_at).label("republish"),
            sa.case((met, 1), else_=0).label("met"),
            sa.case((missed, 1), else_=0).label("missed"),
            sa.func.coalesce(events.c.escalations, 0).label("escalations"),
            sa.func.coalesce(answers.c.refusals, 0).label("refusals"),
            sa.func.coalesce(events.c.rejections, 0).label("rejections"),
        )
        .select_from(
            i.outerjoin(events, events.c.incident_id == i.c.id).outerjoin(
                answers, answers.c.incident_id == i.c.id
            )
        )
        .where(
            i.c.opened_at >= sa.bindparam("since", since, type_=t.UtcDateTime()),
            i.c.opened_at <= now,
        )
        .cte("per_incident")
    )


def _metrics_query(config: GovernanceConfig, since: datetime, until: datetime) -> sa.Select:
    per = _per_incident(config, since, until)
    values = [
        per.c[name] for name in (*TIMINGS, "met", "missed", "escalations", "refusals", "rejections")
    ]
    grouped = sa.union_all(
        sa.select(per.c.pipeline, per.c.kind, *values),
        sa.select(sa.literal(ALL).label("pipeline"), sa.literal(ALL).label("kind"), *values),
    ).cte("grouped")
    keys = (grouped.c.pipeline, grouped.c.kind)
    durations = sa.union_all(
        *[
            sa.select(
                *keys, sa.literal(name).label("metric"), grouped.c[name].label("seconds")
            ).where(grouped.c[name].is_not(None))
            for name in TIMINGS
        ]
    ).subquery("durations")
    window = {"partition_by": (durations.c.pipeline, durations.c.kind, durations.c.metric)}
    ranked = sa.select(
        durations,
        sa.func.row_number().over(**window, order_by=durations.c.seconds).label("rn"),
        sa.func.count().over(**window).label("n"),
    ).subquery("ranked")
    middle = sa.or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    stats = (
        sa.select(
            ranked.c.pipeline,
            ranked.c.kind,
            *[
                sa.func.avg(
                    sa.case((sa.and_(ranked.c.metric == name, middle), ranked.c.seconds))
                ).label(f"{name}_median")
                for name in TIMINGS
            ],
            *[
                sa.func.max(sa.case((ranked.c.metric == name, ranked.c.seconds))).label(
                    f"{name}_worst"
                )
                for name in TIMINGS
            ],
        )
        .group_by(ranked.c.pipeline, ranked.c.kind)
        .subquery("stats")
    )
    counts = (
        sa.select(
            *keys,
            sa.func.count().label("incidents"),
            *[
                sa.func.sum(grouped.c[name]).label(name)
                for name in ("met", "missed", "escalations", "refusals", "rejections")
            ],
        )
        .group_by(*keys)
        .subquery("counts")
    )
    joined = counts.outerjoin(
        stats, sa.and_(stats.c.pipeline == counts.c.pipeline, stats.c.kind == counts.c.kind)
    )
    return (
        sa.select(counts, *[c for c in stats.c if c.name not in ("pipeline", "kind")])
        .select_from(joined)
        .order_by(sa.case((counts.c.pipeline == ALL, 1), else_=0), counts.c.pipeline, counts.c.kind)
    )


def _row(m: Any) -> MetricsRow:
    def number(value: Any) -> float | None:  # to the millisecond: SQLite's julianday is not exact
        return None if value is None else round(float(value), 3)

    return MetricsRow(
        pipeline=m["pipeline"],
        kind=m["kind"],
        incidents=int(m["incidents"]),
        timings={
            name: Timing(number(m[f"{name}_median"]), number(m[f"{name}_worst"]))
            for name in TIMINGS
        },
        sla_met=int(m["met"] or 0),
        sla_missed=int(m["missed"] or 0),
        escalations=int(m["escalations"] or 0),
        refusals=int(m["refusals"] or 0),
        rejections=int(m["rejections"] or 0),
    )
