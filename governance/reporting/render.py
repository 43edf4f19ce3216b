"""The incident metrics as a terminal table, Markdown (the weekly artifact) or JSON."""

from __future__ import annotations

import json
from typing import Any

from governance.reporting.metrics import TIMINGS, IncidentReport, MetricsRow

FORMATS = ("table", "markdown", "json")
HEADERS = (
    "pipeline",
    "kind",
    "incidents",
    *TIMINGS.values(),
    "SLA met",
    "SLA missed",
    "escalations",
    "refused answers",
    "rejections",
)


def render_report(report: IncidentReport, fmt: str) -> str:
    """The report in `fmt` (table, markdown or json)."""
    if fmt == "json":
        return json.dumps(as_json(report), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "table":
        return render_table(report)
    raise ValueError(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")


def format_seconds(seconds: float | None) -> str:
    """A duration short enough for a table cell: 45s, 4m05s, 1h04m, 2d03h (- for none)."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _window(report: IncidentReport) -> str:
    return (
        f"Incidents opened {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC; "
        "times from the failure, median / worst"
    )


def _cells(row: MetricsRow) -> list[str]:
    timings = [
        f"{format_seconds(t.median)} / {format_seconds(t.worst)}" if t.worst is not None else "-"
        for t in row.timings.values()
    ]
    return [
        row.pipeline,
        row.kind,
        str(row.incidents),
        *timings,
        str(row.sla_met),
        str(row.sla_missed),
        str(row.escalations),
        str(row.refusals),
        str(row.rejections),
    ]


def render_table(report: IncidentReport) -> str:
    """Aligned columns for a terminal."""
    if not report.rows:
        return f"no incidents opened since {report.since:%Y-%m-%d %H:%M} UTC\n"
    rows = [list(HEADERS), *(_cells(r) for r in report.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = [_window(report), ""]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def render_markdown(report: IncidentReport) -> str:
    """A Markdown section: the window, then one table row per pipeline and kind."""
    lines = ["# Incident report", "", f"{_window(report)}.", ""]
    if not report.rows:
        return "\n".join([*lines, "No incidents."]) + "\n"
    lines.append("| " + " | ".join(HEADERS) + " |")
    lines.append("|" + "|".join("---" for _ in HEADERS) + "|")
    for row in report.rows:
        cells = _cells(row)
        if row.pipeline == "(all)":
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def as_json(report: IncidentReport) -> dict[str, Any]:
    """The report as JSON types (seconds rounded to 0.1 s)."""

    def seconds(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "rows": [
            {
                "pipeline": r.pipeline,
                "kind": r.kind,
                "incidents": r.incidents,
                "seconds_from_failure": {
                    name: {"median": seconds(t.median), "worst": seconds(t.worst)}
                    for name, t in r.timings.items()
                },
                "sla": {"met": r.sla_met, "missed": r.sla_missed, "open": r.sla_open},
                "escalations": r.escalations,
                "refused_answers": r.refusals,
                "rejections": r.rejections,
            }
            for r in report.rows
        ],
    }
