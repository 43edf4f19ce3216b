"""Reports and dashboard feeds: the pipeline's output files, and its golden report.

The CSV is the investor report (numbers formatted the same on every backend, so a golden
file compares byte for byte); the feed is a small JSON document for the dashboard. Files are
written locally under the data folder; publishing them to the portal happens elsewhere.
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

from foundation.settings import get_settings
from warehouse.db import Platform
from warehouse.sql import bound


@dataclass(frozen=True)
class Outputs:
    """The files a pipeline run produced."""

    report_csv: Path
    dashboard_feed: Path


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        return f"{float(value):.4f}"
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    return str(value)


def report_csv(engine: Any, pipeline: str, partition: str) -> str:
    """The pipeline's report for a stored partition, as CSV text (the golden-report form)."""
    from warehouse.transform import resolve

    pipe, part = resolve(pipeline, partition)
    with Platform.of(engine).warehouse.connect() as conn:
        result = conn.execute(bound(pipe.report_sql), {"p": part.key})
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(result.keys())
        writer.writerows([_fmt(v) for v in row] for row in result)
    return buf.getvalue()


def dashboard_feed(engine: Any, pipeline: str, partition: str) -> dict[str, Any]:
    """The dashboard feed: headline metrics plus the report rows."""
    from warehouse.transform import resolve

    pipe, part = resolve(pipeline, partition)
    metrics: dict[str, Any] = {}
    with Platform.of(engine).warehouse.connect() as conn:
        if pipe.feed_metrics:
            row = conn.execute(bound(pipe.feed_metrics), {"p": part.key}).mappings().first()
            metrics = {k: _number(v) for k, v in (row or {}).items()}
        rows = conn.execute(bound(pipe.report_sql), {"p": part.key}).mappings().all()
    return {
        "pipeline": pipe.name,
        "partition": part.key,
        "report": pipe.report_name,
        "period": {"start": part.start.isoformat(), "end": part.end.isoformat()},
        "metrics": metrics,
        "rows": [{k: _number(v) for k, v in r.items()} for r in rows],
    }


def _number(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return round(float(value), 4)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def write_outputs(
    engine: Any, pipeline: str, partition: str, out_dir: Path | None = None
) -> Outputs:
    """Write the CSV report and the JSON feed under `<data_dir>/outputs/<pipeline>/`."""
    folder = (out_dir or get_settings().output_dir()) / pipeline
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{partition}.csv"
    feed_path = folder / f"{partition}.feed.json"
    csv_path.write_text(report_csv(engine, pipeline, partition))
    feed_path.write_text(json.dumps(dashboard_feed(engine, pipeline, partition), indent=2))
    return Outputs(csv_path, feed_path)
