"""Judging a cell against the clean run of the same data: RECOVERED, FAILED-SAFE or WRONG.

The clean run leaves a reference: the partition's rows in every fact table (as canonical
text), the report's bytes and the feed's canonical bytes. After the runbook, the same is
read back, plus every version the portal holds for the partition and the partition's state:

- WRONG: any version the portal holds differs from the clean report or feed, or the
  partition is `complete` with rows that differ (wrong numbers that look right).
- RECOVERED: the runbook completed (or no recovery was needed because the pipeline coped
  itself), the partition is `complete` with the clean rows, the report file is the clean
  report, and the portal's latest report and feed are the clean bytes.
- FAILED-SAFE: anything else; the reason is what the runbook said and the partition's state.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from portal.client import PortalClient
from portal.content import canonical_feed
from rehearsal.expectations import Outcome
from warehouse.db import Platform
from warehouse.outputs import csv_cell, output_files, read_feed
from warehouse.partition_state import PartitionStatus, read_state
from warehouse.pipelines import get_pipeline


@dataclass(frozen=True)
class Reference:
    """What the clean run produced."""

    rows: str
    report: bytes
    feed: bytes


@dataclass(frozen=True)
class RunInfo:
    """How the recovery went: whether one was needed, whether it completed, and why not."""

    needed: bool
    completed: bool
    summary: str
    incident_id: int | None = None
    infrastructure: bool = False  # the engine failed the run, not the runbook: play again


@dataclass(frozen=True)
class After:
    """What the cell left: partition state and rows, the report file, the portal's versions."""

    status: str | None
    why_not_readable: str | None
    rows: str
    report_file: bytes | None
    reports: list[bytes] = field(default_factory=list)  # oldest first
    feeds: list[bytes] = field(default_factory=list)


def partition_rows(platform: Platform, pipeline: str, partition: str) -> str:
    """Every fact-table row of the partition as sorted, normalised CSV text, table by table."""
    pipe = get_pipeline(pipeline)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with platform.warehouse.connect() as conn:
        for table in pipe.tables:
            result = conn.execute(
                text(f"SELECT * FROM {table} WHERE partition_key = :p"), {"p": partition}
            )
            writer.writerow([f"## {table}", *result.keys()])
            writer.writerows(sorted([csv_cell(v, decimals=6) for v in row] for row in result))
    return out.getvalue()


def reference_of(platform: Platform, pipeline: str, partition: str, outputs: Path) -> Reference:
    """The clean run's reference, read right after it wrote its outputs."""
    files = output_files(outputs, pipeline, partition)
    return Reference(
        rows=partition_rows(platform, pipeline, partition),
        report=files.report_csv.read_bytes(),
        feed=canonical_feed(read_feed(files.dashboard_feed)),
    )


def read_after(
    platform: Platform, pipeline: str, partition: str, outputs: Path, portal: PortalClient
) -> After:
    """What the cell left behind, read from the scratch warehouse, files and portal."""
    state = read_state(platform.warehouse, pipeline, partition)
    report_file = output_files(outputs, pipeline, partition).report_csv
    return After(
        status=state.status if state else None,
        why_not_readable=state.why_not_readable() if state else "never written",
        rows=partition_rows(platform, pipeline, partition),
        report_file=report_file.read_bytes() if report_file.exists() else None,
        reports=_versions(portal, pipeline, partition, "report"),
        feeds=_versions(portal, pipeline, partition, "feed"),
    )


def _versions(portal: PortalClient, pipeline: str, partition: str, kind: str) -> list[bytes]:
    history = portal.history(pipeline, partition, kind)  # type: ignore[arg-type]
    if history is None:
        return []
    return [
        portal.content(pipeline, partition, kind, r.version).content  # type: ignore[union-attr, arg-type]
        for r in sorted(history.history, key=lambda r: r.version)
    ]


def judge(reference: Reference, after: After, run: RunInfo, investor: bool) -> tuple[Outcome, str]:
    """The verdict and its reason."""
    wrong_reports = [i + 1 for i, r in enumerate(after.reports) if r != reference.report]
    wrong_feeds = [i + 1 for i, f in enumerate(after.feeds) if f != reference.feed]
    if wrong_reports or wrong_feeds:
        return Outcome.WRONG, (
            f"the portal holds bytes a clean run would not publish: report versions "
            f"{wrong_reports or '-'}, feed versions {wrong_feeds or '-'}"
        )
    complete = after.status == PartitionStatus.COMPLETE
    if complete and after.rows != reference.rows:
        return Outcome.WRONG, "the partition is complete with rows a clean run does not write"
    same = complete and after.rows == reference.rows and after.report_file == reference.report
    published = not investor or (
        after.reports[-1:] == [reference.report] and after.feeds[-1:] == [reference.feed]
    )
    if (run.completed or not run.needed) and same and published:
        return Outcome.RECOVERED, run.summary
    state = after.why_not_readable or "complete, identical to the clean run"
    return Outcome.FAILED_SAFE, f"{run.summary}; partition: {state}"
