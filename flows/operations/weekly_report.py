"""The weekly incident report: `runbook report` as a Prefect markdown artifact.

Served by `runbook serve` on a weekly schedule at the rotation's handoff (the moment one
on-call week hands over to the next, in the rotation's time zone), so the team reviews the
week it just finished. Each run publishes the markdown under the key `incident-report`; the
Prefect UI keeps every week's version.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import anyio
from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from flows.runtime.run_services import open_command_services
from governance.models import GovernanceConfig
from governance.reporting.metrics import ALL, IncidentReport, incident_report
from governance.reporting.render import render_markdown

ARTIFACT_KEY = "incident-report"
_CRON_DAYS = {"monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5,
              "saturday": 6, "sunday": 0}  # fmt: skip


def _report(days: float, until: datetime) -> IncidentReport:
    with open_command_services() as services:
        return incident_report(
            services.ledger.engine, services.governance, until - timedelta(days=days), until
        )


@flow(name="incident-report", persist_result=False)
async def weekly_incident_report(days: float = 7) -> UUID:
    """Publish the metrics of the incidents opened in the last `days` as a markdown artifact."""
    until = datetime.now(UTC)
    report = await anyio.to_thread.run_sync(_report, days, until)
    artifact = await acreate_markdown_artifact(
        markdown=render_markdown(report),
        key=ARTIFACT_KEY,
        description=f"Incidents opened {report.since:%Y-%m-%d} to {until:%Y-%m-%d}",
    )
    total = next((r.incidents for r in report.rows if r.pipeline == ALL), 0)
    get_run_logger().info("incident report: %d incidents since %s", total, report.since)
    return artifact


def weekly_schedule(config: GovernanceConfig) -> dict[str, str]:
    """Every week at the rotation's handoff, in its time zone (a prefect.yaml schedule)."""
    handoff = config.rotation.handoff
    day = _CRON_DAYS[handoff.weekday]
    cron = f"{handoff.time.minute} {handoff.time.hour} * * {day}"
    return {"cron": cron, "timezone": config.rotation.timezone}
