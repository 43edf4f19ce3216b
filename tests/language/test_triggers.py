"""Which events start which runbook: overlaps between runbooks, and one event against a runbook."""

from __future__ import annotations

import pytest

from flows.language.models import Trigger
from flows.language.triggers import event_matches, triggers_overlap


def trigger(event: str = "pipeline.failed", **match: str | list[str]) -> Trigger:
    labels = {k.replace("__", "."): v for k, v in match.items()}
    return Trigger(event=event, match=labels)


PROFIT = trigger(prefect__resource__id="pipeline.aggregate_profit")


@pytest.mark.parametrize(
    ("other", "overlap"),
    [
        (trigger(prefect__resource__id="pipeline.aggregate_profit"), True),
        (trigger(prefect__resource__id="pipeline.*"), True),
        (
            trigger(
                prefect__resource__id=["pipeline.aggregate_growth", "pipeline.aggregate_profit"]
            ),
            True,
        ),
        (trigger(), True),  # no match: every pipeline's failure
        (trigger("pipeline.*", prefect__resource__id="pipeline.aggregate_profit"), True),
        (trigger(prefect__resource__id="pipeline.aggregate_growth"), False),
        (
            trigger("prefect.flow-run.Failed", prefect__resource__id="pipeline.aggregate_profit"),
            False,
        ),
    ],
)
def test_two_triggers_overlap_when_one_event_could_start_both(
    other: Trigger, overlap: bool
) -> None:
    assert triggers_overlap(PROFIT, other) is overlap
    assert triggers_overlap(other, PROFIT) is overlap


def test_an_event_matches_a_trigger_by_name_and_resource_labels() -> None:
    event = {
        "event": "pipeline.failed",
        "resource": {"prefect.resource.id": "pipeline.aggregate_profit"},
    }
    assert event_matches(PROFIT, event)
    assert not event_matches(PROFIT, {**event, "event": "pipeline.recovered"})
    assert not event_matches(
        PROFIT, {**event, "resource": {"prefect.resource.id": "pipeline.aggregate_growth"}}
    )
    assert event_matches(trigger("pipeline.*"), event)
