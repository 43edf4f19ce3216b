"""Step family `reports`: build the recovered report and set it beside the published one.

The approver decides on exactly these bytes: the result carries the report's sha256, and the
publish step refuses to send anything else. The evidence also says which step's rows are in
the partition the report was built from (`recovery_tasks.lineage`).
"""

from __future__ import annotations

import difflib

from pydantic import BaseModel, Field

from foundation.hashing import sha256_of
from recovery_tasks.context import StepContext
from recovery_tasks.lineage import lineage
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type

DIFF_LINES = 40


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

    def evidence(self) -> str:
        """What produced the numbers, and the diff against the published report."""
        made = "".join(f"\n- {line}" for line in self.lineage)
        head = f"New report: {self.rows} rows, sha256 `{self.sha256[:12]}`."
        if made:
            head = f"What produced the partition:{made}\n\n{head}"
        if self.published_version is None:
            return f"{head} Nothing published yet for {self.partition}: first publication."
        if not self.diff:
            return f"{head} Identical to published version {self.published_version}."
        body = "\n".join(self.diff)
        return (
            f"{head} Against published version {self.published_version}: "
            f"+{self.rows_added} / -{self.rows_removed} rows.\n\n```diff\n{body}\n```"
        )


@step_type("reports.build", params=PartitionParams, result=ReportResult)
def build(params: PartitionParams, ctx: StepContext) -> ReportResult:
    """Write the report CSV and dashboard feed, and diff them against the published report."""
    from warehouse.outputs import write_outputs
    from warehouse.partition_state import read_state

    pipeline = params.pipeline_of(ctx)
    platform = ctx.run.platform()
    outputs = write_outputs(platform, pipeline, params.partition, ctx.run.output_dir)
    state = read_state(platform.warehouse, pipeline, params.partition)
    written = f"written {state.started_at:%Y-%m-%d %H:%M:%S}" if state and state.started_at else ""
    data = outputs.report_csv.read_bytes()
    new_lines = data.decode("utf-8").splitlines()
    with ctx.run.portal() as client:
        published = client.content(pipeline, params.partition, "report")
    result = ReportResult(
        pipeline=pipeline,
        partition=params.partition,
        csv_path=str(outputs.report_csv),
        feed_path=str(outputs.dashboard_feed),
        sha256=sha256_of(data),
        rows=max(len(new_lines) - 1, 0),
        lineage=lineage(ctx, written or None),
    )
    if published is None:
        return result
    old_lines = published.text.splitlines()
    diff = [
        line
        for line in difflib.unified_diff(old_lines, new_lines, "published", "new", lineterm="", n=0)
    ]
    result.published_version = published.receipt.version
    result.rows_added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
    result.rows_removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
    result.diff = diff[:DIFF_LINES]
    return result
