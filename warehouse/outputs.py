"""Reports and dashboard feeds: the pipeline's output files, and its golden report.

The CSV is the investor report (numbers formatted the same on every backend, so a golden
file compares byte for byte); the feed is a small JSON document for the dashboard. Files are
written locally under the platform's output folder; publishing them happens elsewhere.

Only a `complete` partition is turned into a report or feed: a quarantined, half-written or
unchecked one raises `PartitionNotReadyError` naming why, and the files of the last good
build stay as they were.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from warehouse.annotations import notes_of
from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.partition_state import require_readable
from warehouse.pipelines import Pipeline
from warehouse.sql import bound


@dataclass(frozen=True)
class Outputs:
    """The files a pipeline run produced."""

    report_csv: Path
    dashboard_feed: Path


def output_files(out_dir: Path, pipeline: str, partition: str) -> Outputs:
    """Where a partition's report and feed are written: `<out_dir>/<pipeline>/<partition>.*`."""
    folder = Path(out_dir) / pipeline
    return Outputs(folder / f"{partition}.csv", folder / f"{partition}.feed.json")


def read_feed(path: Path) -> dict[str, Any]:
    """A dashboard feed file as the portal receives it."""
    feed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return feed


def csv_cell(value: Any, decimals: int = 4) -> str:
    """A warehouse value as report CSV writes it: numbers rounded, dates as days, NULL empty."""
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        return f"{float(value):.{decimals}f}"
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    return str(value)


def report_csv(platform: Platform, pipe: Pipeline, part: Partition) -> str:
    """The pipeline's report for a complete partition, as CSV text (the golden-report form)."""
    with platform.warehouse.connect() as conn:
        require_readable(conn, pipe.name, part.key)
        result = conn.execute(bound(pipe.report_sql), {"p": part.key})
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(result.keys())
        writer.writerows([csv_cell(v) for v in row] for row in result)
    return buf.getvalue()


def dashboard_feed(platform: Platform, pipe: Pipeline, part: Partition) -> dict[str, Any]:
    """The dashboard feed of a complete partition: headline metrics, the report rows, and the
    partition's annotations as `notes` when it has any."""
    metrics: dict[str, Any] = {}
    with platform.warehouse.connect() as conn:
        require_readable(conn, pipe.name, part.key)
        if pipe.feed_metrics:
            row = conn.execute(bound(pipe.feed_metrics), {"p": part.key}).mappings().first()
            metrics = {k: _number(v) for k, v in (row or {}).items()}
        rows = conn.execute(bound(pipe.report_sql), {"p": part.key}).mappings().all()
        notes = notes_of(conn, pipe.name, part.key)
    feed: dict[str, Any] = {
        "pipeline": pipe.name,
        "partition": part.key,
        "report": pipe.report_name,
        "period": {"start": part.start.isoformat(), "end": part.end.isoformat()},
        "metrics": metrics,
        "rows": [{k: _number(v) for k, v in r.items()} for r in rows],
    }
    if notes:  # why the numbers moved, as the people who annotated them said
        feed["notes"] = notes
    return feed


def _number(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return round(float(value), 4)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def write_outputs(
    platform: Platform, pipe: Pipeline, part: Partition, out_dir: Path | None = None
) -> Outputs:
    """Write the CSV report and the JSON feed under `<output folder>/<pipeline>/`.

    Both are built before either file is written, so a refusal leaves the last good pair.
    """
    files = output_files(out_dir or platform.config.outputs(), pipe.name, part.key)
    report = report_csv(platform, pipe, part)
    feed = json.dumps(dashboard_feed(platform, pipe, part), indent=2)
    files.report_csv.parent.mkdir(parents=True, exist_ok=True)
    files.report_csv.write_text(report)
    files.dashboard_feed.write_text(feed)
    return files
