"""The invariant's rule: which partitions that are not complete nobody is working on."""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.operations.invariant_sweep import unwatched
from warehouse.partition_state import PartitionState

NOW = datetime(2026, 12, 7, 3, 0)
SLA = timedelta(hours=4)


def state(
    partition: str, status: str, started: timedelta, failing: str | None = None
) -> PartitionState:
    checks = [{"name": failing, "kind": "data_quality"}] if failing else []
    return PartitionState("aggregate_profit", partition, status, 0, NOW - started, None, checks)


def found(states: list[PartitionState], open_keys: set, live: set) -> dict[str, str]:
    return {
        u.state.partition: u.kind for u in unwatched(states, open_keys, live, lambda _: SLA, NOW)
    }


def test_a_broken_partition_without_incident_or_run_is_found_with_the_kind_its_state_tells() -> (
    None
):
    states = [
        state("2026-01", "quarantined", timedelta(days=3), "critical_not_null"),
        state("2026-02", "unchecked", timedelta(days=2)),
        state("2026-03", "running", timedelta(hours=2)),
    ]
    assert found(states, set(), set()) == {
        "2026-01": "data_quality",
        "2026-02": "unclassified",
        "2026-03": "etl_job_failure",
    }


def test_an_open_incident_holds_its_partition() -> None:
    states = [state("2026-03", "quarantined", timedelta(days=1), "critical_not_null")]
    assert found(states, {("aggregate_profit", "2026-03")}, set()) == {}


def test_a_live_run_holds_a_partition_until_its_write_outlives_a_share_of_the_sla() -> None:
    key = {("aggregate_profit", "2026-03")}
    assert found([state("2026-03", "running", timedelta(minutes=5))], set(), key) == {}
    stuck = unwatched(
        [state("2026-03", "running", timedelta(hours=2))], set(), key, lambda _: SLA, NOW
    )
    assert [u.state.partition for u in stuck] == ["2026-03"]
    assert "older than 25% of the SLA" in stuck[0].why
