"""Step family `reports`: build the recovered report and set it beside the published one.

The approver decides on exactly these bytes: the result carries the sha256 of the report and
of the dashboard feed (in the canonical JSON form the portal stores), the evidence shows both
against the published versions (the feed as a readable JSON diff), and the publish step
refuses to send anything else. The evidence also says which step's rows are in the partition
the report was built from (`recovery_tasks.lineage`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from foundation.hashing import sha256_of
from recovery_tasks.approved_bytes import feed_sha256
from recovery_tasks.context import StepContext
from recovery_tasks.diffs import DIFF_LINES, line_diff, readable_feed
from recovery_tasks.lineage import lineage
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type


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

    def evidence(self) -> str:
        """What produced the numbers, and the report and feed against the published ones."""
        made = "".join(f"\n- {line}" for line in self.lineage)
        head = f"What produced the partition:{made}\n\n" if made else ""
        return head + self._report_section() + "\n\n" + self._feed_section()

    def _report_section(self) -> str:
        head = f"New report: {self.rows} rows, sha256 `{self.sha256[:12]}`."
        if self.published_version is None:
            return f"{head} Nothing published yet for {self.partition}: first publication."
        if not self.diff:
            return f"{head} Identical to published version {self.published_version}."
        body = "\n".join(self.diff)
        return (
            f"{head} Against published version {self.published_version}: "
            f"+{self.rows_added} / -{self.rows_removed} rows.\n\n```diff\n{body}\n```"
        )

    def _feed_section(self) -> str:
        head = f"New dashboard feed: sha256 `{self.feed_sha256[:12]}`."
        if self.feed_published_version is None:
            body = "\n".join(self.feed_preview)
            return f"{head} No feed published yet: first publication.\n\n```json\n{body}\n```"
        if not self.feed_diff:
            return f"{head} Identical to published feed version {self.feed_published_version}."
        body = "\n".join(self.feed_diff)
        return (
            f"{head} Against published feed version {self.feed_published_version}:"
            f"\n\n```diff\n{body}\n```"
        )


@step_type("reports.build", params=PartitionParams, result=ReportResult)
def build(params: PartitionParams, ctx: StepContext) -> ReportResult:
    """Write the report CSV and dashboard feed, and diff both against the published ones."""
    from warehouse.outputs import read_feed, write_outputs
    from warehouse.partition_state import read_state

    pipeline = params.pipeline_of(ctx)
    platform = ctx.run.platform()
    outputs = write_outputs(platform, pipeline, params.partition, ctx.run.output_dir)
    state = read_state(platform.warehouse, pipeline, params.partition)
    written = f"written {state.started_at:%Y-%m-%d %H:%M:%S}" if state and state.started_at else ""
    data = outputs.report_csv.read_bytes()
    new_lines = data.decode("utf-8").splitlines()
    feed = read_feed(outputs.dashboard_feed)
    with ctx.run.portal() as client:
        published = client.content(pipeline, params.partition, "report")
        published_feed = client.content(pipeline, params.partition, "feed")
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
    )
    if published is not None:
        diff = line_diff(published.text.splitlines(), new_lines)
        result.published_version = published.receipt.version
        result.rows_added, result.rows_removed, result.diff = diff.added, diff.removed, diff.lines
    if published_feed is not None:
        result.feed_published_version = published_feed.receipt.version
        result.feed_diff = line_diff(
            readable_feed(published_feed.as_json()), readable_feed(feed)
        ).lines
    return result
