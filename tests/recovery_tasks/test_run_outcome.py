"""How a successful run ends: `recovered`, unless the event named a healthy partition."""

from __future__ import annotations

from recovery_tasks.context import StepOutcome
from recovery_tasks.partitions import HealthResult
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
