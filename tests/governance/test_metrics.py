"""Incident metrics computed by the database (SQLite and PostgreSQL), `runbook report`, and the
post-incident report of `runbook audit N --markdown`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from governance.ledger.audit_ledger import Ledger
from governance.reporting.metrics import ALL, MetricsRow, incident_report
from governance.reporting.postmortem import post_incident_markdown
from governance.reporting.render import format_seconds, render_report
from runbook_cli.main import app
from tests.governance.conftest import make_config, migrated_ledger

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UNTIL = T0 + timedelta(days=1)


def record(ledger: Ledger, pipeline: str, kind: str, opened: datetime, story: list[tuple]) -> int:
    """An incident and its story: (seconds after the failure, what, detail...) in order."""
    inc = ledger.incidents.open(
        pipeline, kind, opened, partition="2026-10", flow_run_id=f"r-{opened}"
    )
    request = None
    for seconds, what, *rest in story:
        at = opened + timedelta(seconds=seconds)
        if what == "ask":
            request = ledger.approvals.record_request(
                inc.id, f"r-{opened}", "approve-1", ["A", "B"], requested_at=at
            )
            ledger.incidents.record_state(inc.id, "awaiting_approval", at=at)
        elif what == "answer":
            who, decision, refusal = rest
            assert request is not None
            ledger.approvals.record_answer(request.id, who, decision, authorized=refusal is None,
                                 reason=refusal, answered_at=at)  # fmt: skip
            if refusal is None:
                ledger.incidents.record_state(
                    inc.id, "approved" if decision == "approve" else "rejected", at=at, actor=who
                )
        elif what == "step":
            step_id, outputs = rest
            ledger.steps.record(
                inc.id, step_id, "completed", started_at=at - timedelta(seconds=42), ended_at=at,
                result={"outputs": outputs, "message": None},
            )  # fmt: skip
        elif what == "publish":
            ledger.publications.record(inc.id, pipeline, "2026-10", "report", "rcpt-1", "ab" * 32,
                                      published_at=at, version=2)  # fmt: skip
            ledger.incidents.record_state(inc.id, "published", at=at)
        else:
            ledger.incidents.record_state(inc.id, what, at=at, detail=rest[0] if rest else None)
    return inc.id


def week_of_incidents(ledger: Ledger) -> list[int]:
    """Three data-quality incidents of aggregate_profit (4h SLA), two of an experiment pipeline
    (24h SLA) and one too old for a 30-day report."""
    refused = "'C' may not answer this gate"
    return [
        record(ledger, "aggregate_profit", "data_quality", T0, [
            (60, "recovering"), (250, "step", "counts", {"source": 120, "warehouse": 120}),
            (300, "ask"), (500, "answer", "C", "approve", refused),
            (600, "answer", "A", "approve", None), (900, "publish"), (905, "resolved"),
        ]),
        record(ledger, "aggregate_profit", "data_quality", T0 + timedelta(hours=1), [
            (120, "recovering"), (600, "ask"), (2400, "escalated", {"to": ["B"]}),
            (3000, "answer", "B", "approve", None), (20000, "publish"),
        ]),
        record(ledger, "aggregate_profit", "data_quality", T0 + timedelta(hours=2), [
            (30, "recovering"), (200, "ask"), (400, "answer", "B", "reject", None),
        ]),
        record(ledger, "unit_profit_experiments", "late_arriving_data", T0 + timedelta(hours=3), [
            (10, "recovering"), (100, "resolved"),
        ]),
        record(ledger, "unit_profit_experiments", "etl_job_failure", T0 + timedelta(hours=20), [
            (20, "recovering"), (50, "failed"),
        ]),
        record(ledger, "aggregate_profit", "source_outage", T0 - timedelta(days=40), [
            (5, "recovering"),
        ]),
    ]  # fmt: skip


def by_group(rows: list[MetricsRow]) -> dict[tuple[str, str], MetricsRow]:
    return {(r.pipeline, r.kind): r for r in rows}


def medians_and_worsts(row: MetricsRow) -> dict[str, tuple[float | None, float | None]]:
    def approx(v: float | None) -> float | None:
        return None if v is None else round(v, 2)

    return {name: (approx(t.median), approx(t.worst)) for name, t in row.timings.items()}


def test_the_database_computes_medians_worsts_and_sla_per_pipeline_and_kind(
    ledger: Ledger,
) -> None:
    week_of_incidents(ledger)
    report = incident_report(ledger.engine, make_config(), UNTIL - timedelta(days=30), UNTIL)
    rows = by_group(report.rows)
    assert list(rows) == [
        ("aggregate_profit", "data_quality"),
        ("unit_profit_experiments", "etl_job_failure"),
        ("unit_profit_experiments", "late_arriving_data"),
        (ALL, ALL),
    ]  # the 40-day-old incident is outside the window
    quality = rows["aggregate_profit", "data_quality"]
    assert quality.incidents == 3
    assert medians_and_worsts(quality) == {
        "detect": (60, 120),
        "evidence": (300, 600),
        "first_answer": (600, 3000),  # authorized answers only: 600, 3000 and the reject at 400
        "approval": (1800, 3000),  # median of two: their mean
        "republish": (10450, 20000),
    }
    assert (quality.sla_met, quality.sla_missed, quality.sla_open) == (1, 2, 0)
    assert (quality.escalations, quality.refusals, quality.rejections) == (1, 1, 1)
    late = rows["unit_profit_experiments", "late_arriving_data"]
    assert (late.incidents, late.sla_met, late.timings["detect"].worst) == (1, 1, 10)
    assert late.timings["approval"].median is None
    failing = rows["unit_profit_experiments", "etl_job_failure"]
    assert (failing.sla_met, failing.sla_missed, failing.sla_open) == (0, 0, 1)  # 4h of 24h
    total = rows[ALL, ALL]
    assert total.incidents == 5 and medians_and_worsts(total)["detect"] == (30, 120)
    assert (total.sla_met, total.sla_missed, total.escalations) == (2, 2, 1)


def test_the_report_prints_the_figures_as_a_table_markdown_and_json(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    ledger = migrated_ledger(url)
    week_of_incidents(ledger)
    ledger.dispose()
    at = ["--at", UNTIL.isoformat(), "--db", url]
    table = CliRunner().invoke(app, ["report", "--since", "30d", *at])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == (
        "Incidents opened 2026-10-04 09:00 to 2026-11-03 09:00 UTC; times from the failure, "
        "median / worst"
    )
    [quality] = [line for line in lines if line.startswith("aggregate_profit")]
    assert quality.split()[:5] == ["aggregate_profit", "data_quality", "3", "1m00s", "/"]
    assert "2h54m / 5h33m" in quality  # republish: 10450 s and 20000 s
    markdown = CliRunner().invoke(app, ["report", "--format", "markdown", *at]).output
    assert "| aggregate_profit | data_quality | 3 | 1m00s / 2m00s | 5m00s / 10m00s |" in markdown
    data = json.loads(CliRunner().invoke(app, ["report", "--format", "json", *at]).output)
    quality_json = data["rows"][0]
    assert quality_json["seconds_from_failure"]["approval"] == {"median": 1800.0, "worst": 3000.0}
    assert quality_json["sla"] == {"met": 1, "missed": 2, "open": 0}
    week = json.loads(
        CliRunner().invoke(app, ["report", "--since", "5h", "--format", "json", *at]).output
    )
    assert [r["pipeline"] for r in week["rows"]] == ["unit_profit_experiments", ALL]
    bad = CliRunner().invoke(app, ["report", "--since", "a month", *at])
    assert bad.exit_code == 2 and "invalid duration" in bad.output


def test_durations_read_at_a_glance() -> None:
    assert [format_seconds(s) for s in (None, 4.6, 65, 3725, 200000)] == [
        "-", "5s", "1m05s", "1h02m", "2d07h",
    ]  # fmt: skip


def test_an_empty_window_says_so(sqlite_ledger: Ledger) -> None:
    report = incident_report(sqlite_ledger.engine, make_config(), T0, UNTIL)
    assert render_report(report, "table") == "no incidents opened since 2026-11-02 09:00 UTC\n"
    assert "No incidents." in render_report(report, "markdown")


def test_the_post_incident_report_tells_what_happened_who_approved_and_the_sla_used(
    sqlite_ledger: Ledger,
) -> None:
    first, second, *_ = week_of_incidents(sqlite_ledger)
    sqlite_ledger.notifications.record_notification(
        "B", "json", "escalation", delivered=True, incident_id=second, target="json://hooks/b"
    )
    text = post_incident_markdown(sqlite_ledger, make_config(), first, UNTIL)
    assert text.startswith("# Incident 1: aggregate_profit 2026-10 — data_quality\n")
    assert "- **SLA**: 4h, deadline 2026-11-02 13:00:00; used 15m (6%): **met**" in text
    assert '| counts | completed | 42s | {"source": 120, "warehouse": 120} |' in text
    assert "**Approved by**: A" in text
    assert "C approve (refused: 'C' may not answer this gate)" in text
    assert (
        "| 2026-11-02 09:15:00 | report | aggregate_profit/2026-10 | 2 | rcpt-1 | abababababab |"
        in text
    )
    late = post_incident_markdown(sqlite_ledger, make_config(), second, UNTIL)
    assert "used 5h33m20s (139%): **missed**" in late
    assert "Escalated 1 time(s): 2026-11-02 10:40:00 to B" in late
    assert "| B | escalation | json json://hooks/b | delivered |" in late
