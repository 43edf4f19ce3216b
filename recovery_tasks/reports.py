"""Step family `reports`: build the recovered report and set it beside the last one.

Every runbook ends with its pipeline's outputs rebuilt from the recovered partition, so the
report and feed on disk are never a previous run's numbers. Investor pipelines compare them
with the versions the portal holds; the others (no portal) with the files the last run
wrote, read before they are replaced. The approver decides on exactly these bytes: the
result carries the sha256 of the report and of the dashboard feed (in the canonical JSON
form the portal stores), the evidence shows both against the last versions (the feed as a
readable JSON diff), and the publish step refuses to send anything else. The evidence also
says which step's rows are in the partition the report was built from
(`recovery_tasks.lineage`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from foundation.hashing import sha256_of
from recovery_tasks.approved_bytes import feed_sha256
from recovery_tasks.context import StepContext
from recovery_tasks.diffs import DIFF_LINES, line_diff, readable_feed
from recovery_tasks.lineage import lineage
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type

if TYPE_CHECKING:
    from warehouse.outputs import Outputs


class ReportResult(BaseModel):
    """The new report, and how it differs from the last published version."""

    pipeline: str
    partition: str
    csv_path: str
    feed_path: str
    sha256: str
    rows: int
    published_version: int | None = None
    rows_added: int = 0
    rows_removed: int = 0
    diff: list[str] = Field(default_factory=list)
    lineage: list[str] = Field(default_factory=list)
    feed_sha256: str = ""
    feed_published_version: int | None = None
    feed_diff: list[str] = Field(default_factory=list)
    feed_preview: list[str] = Field(default_factory=list)
    compared_with: str = "published"  # or "written": the files the last run left on disk

    def evidence(self) -> str:
        """What produced the numbers, and the report and feed against the published ones."""
        made = "".join(f"\n- {line}" for line in self.lineage)
        head = f"What produced the partition:{made}\n\n" if made else ""
        return head + self._report_section() + "\n\n" + self._feed_section()

    def _last(self, what: str, version: int | None) -> str | None:
        """`published version 3` / `published feed version 2` / `the last written report`,
        or None when there is none."""
        if self.compared_with == "written":
            return f"the last written {what}" if version is not None else None
        kind = "" if what == "report" else f"{what} "
        return None if version is None else f"published {kind}version {version}"

    def _first(self, what: str) -> str:
        done = "written" if self.compared_with == "written" else "published"
        event = "first output" if done == "written" else "first publication"
        return f"No {what} {done} yet for {self.partition}: {event}."

    def _report_section(self) -> str:
        head = f"New report: {self.rows} rows, sha256 `{self.sha256[:12]}`."
        last = self._last("report", self.published_version)
        if last is None:
            return f"{head} {self._first('report')}"
        if not self.diff:
            return f"{head} Identical to {last}."
        body = "\n".join(self.diff)
        return (
            f"{head} Against {last}: "
            f"+{self.rows_added} / -{self.rows_removed} rows.\n\n```diff\n{body}\n```"
        )

    def _feed_section(self) -> str:
        head = f"New dashboard feed: sha256 `{self.feed_sha256[:12]}`."
        last = self._last("feed", self.feed_published_version)
        if last is None:
            body = "\n".join(self.feed_preview)
            return f"{head} {self._first('feed')}\n\n```json\n{body}\n```"
        if not self.feed_diff:
            return f"{head} Identical to {last}."
        body = "\n".join(self.feed_diff)
        return f"{head} Against {last}:\n\n```diff\n{body}\n```"


@step_type("reports.build", params=PartitionParams, result=ReportResult)
def build(params: PartitionParams, ctx: StepContext) -> ReportResult:
    """Write the report CSV and dashboard feed anew from the partition; diff both with the last."""
    from warehouse.outputs import output_files, read_feed, write_outputs
    from warehouse.partition_state import read_state
    from warehouse.pipelines import get_pipeline

    pipeline = params.pipeline_of(ctx)
    platform = ctx.run.platform()
    published = get_pipeline(pipeline).investor_reporting
    files = output_files(ctx.run.output_dir, pipeline, params.partition)
    written_before = None if published else _last_written(files)
    outputs = write_outputs(platform, *params.target(ctx), ctx.run.output_dir)
    state = read_state(platform.warehouse, pipeline, params.partition)
    written = f"written {state.started_at:%Y-%m-%d %H:%M:%S}" if state and state.started_at else ""
    data = outputs.report_csv.read_bytes()
    new_lines = data.decode("utf-8").splitlines()
    feed = read_feed(outputs.dashboard_feed)
    result = ReportResult(
        pipeline=pipeline,
        partition=params.partition,
        csv_path=str(outputs.report_csv),
        feed_path=str(outputs.dashboard_feed),
        sha256=sha256_of(data),
        rows=max(len(new_lines) - 1, 0),
        lineage=lineage(ctx, written or None),
        feed_sha256=feed_sha256(feed),
        feed_preview=readable_feed(feed)[:DIFF_LINES],
        compared_with="published" if published else "written",
    )
    if published:
        with ctx.run.portal() as client:
            last = client.content(pipeline, params.partition, "report")
            last_feed = client.content(pipeline, params.partition, "feed")
        last_text = last.text if last is not None else None
        version = last.receipt.version if last is not None else None
        last_json = last_feed.as_json() if last_feed is not None else None
        feed_version = last_feed.receipt.version if last_feed is not None else None
    else:
        last_text, last_json = written_before or (None, None)
        version = feed_version = 0 if written_before else None
    if last_text is not None:
        diff = line_diff(last_text.splitlines(), new_lines)
        result.published_version = version
        result.rows_added, result.rows_removed, result.diff = diff.added, diff.removed, diff.lines
    if last_json is not None:
        result.feed_published_version = feed_version
        result.feed_diff = line_diff(readable_feed(last_json), readable_feed(feed)).lines
    return result


def _last_written(files: Outputs) -> tuple[str, dict[str, Any]] | None:
    """The report text and feed the last run wrote, or None when it wrote none."""
    from warehouse.outputs import read_feed

    if not (files.report_csv.exists() and files.dashboard_feed.exists()):
        return None
    return files.report_csv.read_text(encoding="utf-8"), read_feed(files.dashboard_feed)
