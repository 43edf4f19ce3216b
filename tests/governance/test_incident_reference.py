"""The incident a run works on is one value, built in one place, whichever way it was found."""

from __future__ import annotations

import pytest

from governance.incidents.recorder import IncidentRecorder
from governance.incidents.reference import IncidentRef, Retry
from governance.incidents.unrecorded import UnrecordedRun
from governance.ledger.audit_ledger import Ledger
from governance.models import GovernanceConfig

EVENT = {
    "id": "evt-1",
    "event": "pipeline.failed",
    "occurred": "2026-11-02T08:00:00Z",
    "payload": {"kind": "data_quality", "partition": "2026-10", "detail": "row counts"},
}


def test_opening_finding_again_and_retrying_give_the_same_reference(
    sqlite_ledger: Ledger, config: GovernanceConfig
) -> None:
    opened = IncidentRecorder(sqlite_ledger, config).open(
        "aggregate-profit", "aggregate_profit", EVENT, {}, "run-1"
    )
    found = IncidentRecorder(sqlite_ledger, config).rebind("run-1", EVENT)
    resumed = IncidentRecorder(sqlite_ledger, config).resume(
        Retry(opened.id, "C", "source fixed"), "aggregate-profit", EVENT, "run-2"
    )
    assert opened == found == resumed
    assert opened.event_id == "evt-1" and opened.detail == "row counts"
    namespace = opened.namespace()
    sla = config.pipeline("aggregate_profit").sla
    assert namespace["deadline"] == (opened.opened_at + sla).isoformat()
    assert "attached" not in namespace and "retry" not in namespace


def test_a_claim_on_a_held_key_is_attached_to_the_holder_and_binds_nothing(
    sqlite_ledger: Ledger, config: GovernanceConfig
) -> None:
    first = IncidentRecorder(sqlite_ledger, config)
    won = first.claim("aggregate-profit", "aggregate_profit", EVENT, "2026-10", "run-1")
    second = IncidentRecorder(sqlite_ledger, config)
    lost = second.claim(
        "aggregate-profit", "aggregate_profit", {**EVENT, "id": "evt-2"}, "2026-10", "run-2"
    )
    assert (won.attached, lost.attached) == (False, True)
    assert lost.incident.id == won.incident.id and isinstance(lost.incident, IncidentRef)
    assert (first.incident_id, second.incident_id) == (won.incident.id, None)


def test_a_run_that_keeps_no_story_opens_nothing(
    sqlite_ledger: Ledger, config: GovernanceConfig
) -> None:
    recorder = UnrecordedRun(sqlite_ledger, config)
    assert not recorder.keeps_story
    assert recorder.rebind("run-1", EVENT) is None and recorder.run_steps() == []
    recorder.state("failed", detail={"why": "nothing to tell"})  # bound to nothing: no-op
    with pytest.raises(RuntimeError, match="opens no incident"):
        recorder.open("aggregate-profit", "aggregate_profit", EVENT, {}, "run-1")


def test_a_retry_is_the_flow_parameter_runbook_retry_sends() -> None:
    retry = Retry(7, "C", None)
    assert Retry.from_parameter(retry.as_parameter()) == retry
    assert Retry.from_parameter(None) is None and Retry.from_parameter({}) is None


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ({"id": 7}, r"is not a retry: pass \{\"id\": N, \"retry\""),
        ({"id": "seven", "retry": {}}, r"names no incident id \('seven'\)"),
    ],
)
def test_a_malformed_retry_parameter_says_what_to_pass(
    parameter: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Retry.from_parameter(parameter)
