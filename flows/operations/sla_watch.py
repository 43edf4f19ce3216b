"""The SLA watch: a scheduled Prefect flow that notifies at 50% and 75% of the SLA and
records breaches, for every open incident.

It runs on its own schedule (served beside the runbooks by `runbook serve`), so the clock is
watched even while a recovery waits at its gate or after its process is gone. Each threshold
is notified once (the ledger remembers), and a breach is recorded once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from prefect import flow, get_run_logger

from flows.runtime.run_services import open_command_services
from governance.ledger.records import IncidentState
from governance.ledger.views import open_incidents
from governance.notification import messages
from governance.sla import due_notifications, format_time_left
from recovery_tasks.services import RunServices

INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class WatchReport:
    """What one pass did."""

    checked: int
    notified: list[tuple[int, float]]
    breached: list[int]


def watch_once(services: RunServices, now: datetime) -> WatchReport:
    """Notify thresholds crossed since the last pass; record breaches not yet recorded.

    Reads the board from the ledger; writes each incident's story through its recorder.
    """
    ledger, config = services.ledger, services.governance
    notifier = services.notifier()
    notified: list[tuple[int, float]] = []
    breached: list[int] = []
    board = open_incidents(ledger, config, now)
    for item in board:
        if item.sla is None:
            continue
        incident = item.incident
        story = services.story().of(incident.id)
        people = [*item.on_call_people, *item.owners]
        for threshold in due_notifications(
            item.sla, ledger.incidents.notified_thresholds(incident.id)
        ):
            message = messages.sla_threshold(
                incident.pipeline,
                incident.id,
                incident.kind,
                incident.partition,
                threshold,
                format_time_left(item.sla.time_left),
                item.state,
            )
            notifier.send(message, people)
            story.sla_threshold(threshold, at=now)
            notified.append((incident.id, threshold))
        if item.sla.breached and not _breach_recorded(services, incident.id):
            story.breached(item.sla.deadline, at=now)
            notifier.send(
                messages.sla_breached(incident.pipeline, incident.id, item.sla.deadline), people
            )
            breached.append(incident.id)
    return WatchReport(checked=len(board), notified=notified, breached=breached)


def _breach_recorded(services: RunServices, incident_id: int) -> bool:
    return any(
        ev.state == IncidentState.BREACHED for ev in services.ledger.incidents.events(incident_id)
    )


@flow(name="sla-watch", log_prints=True, persist_result=False)
def sla_watch() -> dict[str, int]:
    """One pass of the SLA watch over the configured ledger and governance file."""
    with open_command_services() as services:
        report = watch_once(services, datetime.now(UTC))
    get_run_logger().info(
        "checked %d open incidents: %d notifications, %d breaches",
        report.checked,
        len(report.notified),
        len(report.breached),
    )
    return {
        "checked": report.checked,
        "notified": len(report.notified),
        "breached": len(report.breached),
    }
