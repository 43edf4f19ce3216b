"""The approver reads which step's rows are in the partition the report was built from."""

from __future__ import annotations

from recovery_tasks.context import StepContext, StepOutcome
from recovery_tasks.lineage import lineage

USES = {
    "restore": "backfill.event_backup",
    "clean": "partitions.clean_half_written",
    "rerun": "transforms.rerun",
    "again": "transforms.rerun",
    "counts": "checks.source_counts",
}
RESTORE = {"partition": "2026-03", "days": ["2026-03-31"], "rows": 45,
           "source": "the event backup", "target": "the event stream (events)"}  # fmt: skip
RERUN = {"pipeline": "aggregate_engagement", "partition": "2026-03",
         "rows": {"engagement_daily": 31, "engagement_monthly": 1}}  # fmt: skip


def ctx(steps: dict[str, StepOutcome]) -> StepContext:
    return StepContext(runbook="r", pipeline="aggregate_engagement", step_id="report",
                       steps=steps, uses=USES)  # fmt: skip


def test_a_backfill_read_by_the_rerun_and_the_rerun_owning_the_partition() -> None:
    steps = {"restore": StepOutcome("completed", RESTORE), "rerun": StepOutcome("completed", RERUN)}
    lines = lineage(ctx(steps), None)
    assert lines == [
        "`restore` added 45 rows to the event stream (events) from the event backup; "
        "`rerun` read them",
        "`rerun` wrote the partition (32 rows): its rows are the final partition",
    ]


def test_an_earlier_write_replaced_by_a_later_one_says_so() -> None:
    clean = {"pipeline": "aggregate_engagement", "partition": "2026-03", "status": "running",
             "rows_removed": {"engagement_daily": 12}}  # fmt: skip
    lines = lineage(
        ctx({
            "clean": StepOutcome("completed", clean),
            "rerun": StepOutcome("completed", RERUN),
            "again": StepOutcome("completed", RERUN),
        }),
        None,
    )  # fmt: skip
    assert lines == [
        "`clean` removed 12 half-written rows; replaced by `again`",
        "`rerun` wrote the partition (32 rows); replaced by `again`",
        "`again` wrote the partition (32 rows): its rows are the final partition",
    ]


def test_a_run_that_wrote_nothing_reads_the_partition_as_the_pipeline_left_it() -> None:
    lines = lineage(
        ctx({"rerun": StepOutcome("skipped"), "counts": StepOutcome("completed", {"x": 1})}),
        "written 2026-03-31 06:00:00",
    )
    assert lines == [
        "no step of this run wrote the partition: the report reads it as the pipeline's last "
        "run left it (written 2026-03-31 06:00:00)"
    ]


def test_a_backfill_nobody_recomputed_from_is_flagged() -> None:
    lines = lineage(ctx({"restore": StepOutcome("completed", RESTORE)}), None)
    assert lines[0].endswith("no later step re-computed the partition from them")
