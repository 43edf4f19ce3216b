"""How a successful run ends: `recovered`, unless the event named a healthy partition."""

from __future__ import annotations

from recovery_tasks.context import StepOutcome
from recovery_tasks.partitions import HealthResult, failed_run_of
from recovery_tasks.run_outcome import run_outcome

USES = {"health": "partitions.health", "rerun": "transforms.rerun"}
BROKEN = ["2026-03 (quarantined: critical_not_null)"]


def ended(health: HealthResult) -> str:
    outcomes = {
        "health": StepOutcome("completed", health.model_dump(mode="json")),
        "rerun": StepOutcome("completed", None),
    }
    return run_outcome(outcomes, USES)


def test_a_run_on_a_healthy_partition_ends_healthy_naming_the_broken_ones() -> None:
    health = HealthResult.of("aggregate_profit", "2026-02", "complete", BROKEN)

    assert ended(health) == (
        "healthy — nothing to recover; not complete in aggregate_profit: "
        "2026-03 (quarantined: critical_not_null)"
    )


def test_a_run_on_a_broken_partition_ends_recovered() -> None:
    assert ended(HealthResult.of("aggregate_profit", "2026-03", "quarantined", [])) == "recovered"


def test_a_republished_complete_partition_ends_recovered_not_healthy() -> None:
    health = HealthResult.of("aggregate_growth", "2026-W11", "complete", [])
    health.publication_failed = True

    assert ended(health) == "recovered"
    assert "this run republishes it" in health.evidence()


def test_a_partition_whose_pipeline_run_failed_before_writing_ends_recovered() -> None:
    """A source out when the pipeline re-ran: the stored partition is the earlier complete one,
    but the run the event names failed for it, so this run re-runs it and says recovered."""
    health = HealthResult.of("aggregate_profit", "2026-03", "complete", [])
    health.failed_run = "d26c0a10-0f33-43b6-bed8-26c7a0aa0517"

    assert ended(health) == "recovered"
    assert "pipeline run d26c0a10-0f33-43b6-bed8-26c7a0aa0517 failed for it" in health.evidence()


def test_only_an_event_naming_a_run_of_that_partition_counts_as_itsfailed_run_of() -> None:
    run = "d26c0a10-0f33-43b6-bed8-26c7a0aa0517"
    named = {"payload": {"partition": "2026-03", "flow_run_id": run}}
    assert failed_run_of(named, "2026-03") == run
    assert failed_run_of(named, "2026-02") is None  # a run of another partition
    assert failed_run_of({"payload": {"partition": "2026-03"}}, "2026-03") is None  # sent by hand
    assert failed_run_of({}, "2026-03") is None
