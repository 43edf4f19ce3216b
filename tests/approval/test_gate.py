"""The approval gate on a real Prefect server: fail closed, only authorized answers count."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.input.run_input import keyset_from_paused_state

from flows.approval.answering import AnswerError, answer_gate
from flows.events.partition_lock import limit_name
from foundation.settings import get_settings
from governance.config import load_governance
from governance.ledger.audit_ledger import Ledger
from governance.oncall.responders import authorized_approvers
from tests.approval.conftest import GatedRun, flow_run_state, run_input, wait_until_paused
from tests.gated_runbook import PUBLISHED_PARTITION

pytestmark = [pytest.mark.prefect]


def ledger_answers(run: GatedRun, ledger: Ledger) -> list[tuple[str, str, bool]]:
    incident = ledger.incidents.of_run(run.flow_run_id)
    assert incident is not None and incident.runbook == run.name
    return [
        (a.who, a.decision, a.authorized)
        for r in ledger.approvals.requests(incident.id)
        for a in ledger.approvals.answers(r.id)
    ]


def test_authorized_approval_continues_and_publishes(
    start_gated: Callable[..., GatedRun], ledger: Ledger
) -> None:
    run = start_gated()
    paused = wait_until_paused(run.flow_run_id)
    assert not run.target.exists()  # nothing before the answer
    verdict = run.answer("A", comment="counts match")
    assert verdict is not None and verdict.accepted
    state = run.final_state()
    assert state.is_completed()
    assert run.target.exists()
    assert state.result()["steps"]["approve"]["outputs"]["approvers"] == ["A"]
    assert paused.state_details.pause_key == "approve-1"
    assert ledger_answers(run, ledger) == [("A", "approve", True)]


def test_unauthorized_answer_is_refused_recorded_and_the_run_pauses_again(
    start_gated: Callable[..., GatedRun], ledger: Ledger
) -> None:
    run = start_gated()
    verdict = run.answer("C", comment="looks fine to me")
    assert verdict is not None and not verdict.accepted
    assert "'C' may not answer this gate; authorized: A, B" in verdict.detail
    again = wait_until_paused(run.flow_run_id)
    assert again.state_details.pause_key == "approve-2"
    assert not run.target.exists()
    refused = run.answer("D")
    assert refused is not None and not refused.accepted
    assert wait_until_paused(run.flow_run_id).state_details.pause_key == "approve-3"
    assert run.answer("B").accepted  # type: ignore[union-attr]
    assert run.final_state().is_completed()
    assert ledger_answers(run, ledger) == [
        ("C", "approve", False),
        ("D", "approve", False),
        ("B", "approve", True),
    ]


def test_each_answer_is_filed_under_the_pause_it_answered(
    start_gated: Callable[..., GatedRun], ledger: Ledger
) -> None:
    run = start_gated()
    run.answer("C")
    run.answer("D")
    run.answer("A")
    assert run.final_state().is_completed()
    filed = [
        (r.pause_key, [a.who for a in ledger.approvals.answers(r.id)])
        for r in ledger.approvals.requests_of_run(run.flow_run_id)
    ]
    assert filed == [("approve-1", ["C"]), ("approve-2", ["D"]), ("approve-3", ["A"])]


def test_the_resume_form_presets_no_decision(start_gated: Callable[..., GatedRun]) -> None:
    run = start_gated()
    paused = wait_until_paused(run.flow_run_id)
    schema = run_input(run.flow_run_id, keyset_from_paused_state(paused)["schema"])
    decision = schema["properties"]["decision"]
    assert "default" not in decision  # the engineer picks approve or reject
    assert "decision" in schema["required"]
    assert run.answer("A").accepted  # type: ignore[union-attr]
    assert run.final_state().is_completed()


def test_reject_ends_the_run_without_publishing(start_gated: Callable[..., GatedRun]) -> None:
    run = start_gated()
    run.answer("B", "reject", "margins look wrong")
    state = run.final_state()
    assert state.is_failed() and state.name == "Rejected"
    assert "rejected by B: margins look wrong" in state.message
    assert not run.target.exists()


def test_timeout_fails_closed(start_gated: Callable[..., GatedRun], ledger: Ledger) -> None:
    run = start_gated(timeout="3s")
    state = run.final_state()
    assert state.is_failed()
    assert not run.target.exists()
    assert ledger_answers(run, ledger) == []


def test_two_distinct_approvers_are_needed_for_min_approvals_2(
    start_gated: Callable[..., GatedRun],
) -> None:
    run = start_gated(needed=2)
    assert run.answer("A").accepted  # type: ignore[union-attr]
    wait_until_paused(run.flow_run_id)
    assert not run.target.exists()
    repeat = run.answer("A")
    assert repeat is not None and "already approved" in repeat.detail
    assert not run.target.exists()
    assert run.answer("B").accepted  # type: ignore[union-attr]
    state = run.final_state()
    assert state.is_completed() and run.target.exists()
    assert sorted(state.result()["steps"]["approve"]["outputs"]["approvers"]) == ["A", "B"]


def test_whoever_started_the_run_cannot_approve_it(start_gated: Callable[..., GatedRun]) -> None:
    run = start_gated(triggered_by="A")
    verdict = run.answer("A")
    assert verdict is not None and not verdict.accepted
    assert "started this run by hand" in verdict.detail
    assert run.answer("B").accepted  # type: ignore[union-attr]
    assert run.final_state().is_completed()


def test_a_second_answer_after_the_gate_closed_changes_nothing(
    start_gated: Callable[..., GatedRun], ledger: Ledger
) -> None:
    run = start_gated()
    run.answer("B", "reject", "no")
    state = run.final_state()
    with pytest.raises(AnswerError, match="can no longer continue: it ended Rejected"):
        asyncio.run(answer_gate(run.flow_run_id, "A", "approve", "", ledger))
    assert flow_run_state(run.flow_run_id).is_failed()
    assert state.name == "Rejected" and not run.target.exists()


def test_a_gate_publishing_another_pipeline_asks_that_pipelines_people(
    start_gated: Callable[..., GatedRun], ledger: Ledger
) -> None:
    run = start_gated(
        approvers=None,
        pipeline="daily_growth_experiments",
        publishes="aggregate_profit",
        partition="2026-10-14",
    )
    wait_until_paused(run.flow_run_id)
    config = load_governance(get_settings().governance.governance_file)
    paused = wait_until_paused(run.flow_run_id)
    evidence = run_input(run.flow_run_id, keyset_from_paused_state(paused)["description"])
    assert "## Approve republishing `aggregate_profit`?" in evidence
    # the clock is the published pipeline's (4h), not the recovered one's (24h)
    [sla_line] = [line for line in evidence.splitlines() if "**SLA**" in line]
    assert "on `aggregate_profit`'s SLA" in sla_line, sla_line
    opened = datetime.fromisoformat(sla_line.split("**Failed at** ")[1].split(" · ")[0])
    assert f"(deadline {(opened + timedelta(hours=4)).isoformat()})" in sla_line, sla_line
    [request] = ledger.approvals.requests_of_run(run.flow_run_id)
    profit = authorized_approvers(config, "aggregate_profit", request.requested_at)
    growth = authorized_approvers(config, "daily_growth_experiments", request.requested_at)
    assert set(request.approvers) == profit != growth
    for outsider in sorted(growth - profit):  # growth's people may not pass profit's publication
        refused = run.answer(outsider)
        assert refused is not None and not refused.accepted
    assert not run.target.exists()
    assert run.answer("B").accepted  # type: ignore[union-attr]  # aggregate_profit's owner
    assert run.final_state().is_completed() and run.target.exists()
    # the publication held the published partition's lock, not only the runbook's own
    assert concurrency_limit(limit_name("aggregate_profit", PUBLISHED_PARTITION)) is not None


def concurrency_limit(name: str) -> object | None:
    async def read() -> object | None:
        async with get_client() as client:
            try:
                return await client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                return None

    return asyncio.run(read())
