"""The gate's decision, without a Prefect server: who counts, how many, reject, deny on timeout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.approval.decision import Answer, ApproverRules, approver_rules, decide, refusal
from governance.config import load_governance
from recovery_tasks.errors import GateClosed

WEEK_1 = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)  # A on call, B backup
A_OR_B = ApproverRules(("A", "B"), min_approvals=1)


def approve(who: str, comment: str = "") -> Answer:
    return Answer(who, "approve", comment)


def reject(who: str, comment: str = "") -> Answer:
    return Answer(who, "reject", comment)


def test_no_answer_yet_keeps_the_gate_waiting() -> None:
    verdict = decide(A_OR_B, [])
    assert verdict.outcome == "waiting" and verdict.approvers == []


def test_one_authorized_approval_opens_a_one_approver_gate() -> None:
    verdict = decide(A_OR_B, [approve("A", "counts match")])
    assert verdict.outcome == "approved"
    assert verdict.approvers == ["A"] and verdict.comments == ["counts match"]
    assert [r.counted for r in verdict.rulings] == [True]


def test_an_unauthorized_answer_is_refused_with_the_reason_and_the_gate_keeps_waiting() -> None:
    verdict = decide(A_OR_B, [approve("C", "looks fine to me")])
    assert verdict.outcome == "waiting"
    [ruling] = verdict.rulings
    assert ruling.refusal == "'C' may not answer this gate; authorized: A, B"
    assert verdict.notes == [
        "Answer from 'C' refused: 'C' may not answer this gate; authorized: A, B"
    ]
    assert decide(A_OR_B, [approve("C"), approve("B")]).approvers == ["B"]


def test_a_blank_name_is_refused() -> None:
    assert decide(A_OR_B, [approve("")]).rulings[0].refusal is not None


def test_whoever_started_the_run_cannot_approve_it_even_when_listed() -> None:
    rules = ApproverRules(("A", "B"), min_approvals=1, started_by="A")
    verdict = decide(rules, [approve("A")])
    assert verdict.outcome == "waiting"
    assert verdict.rulings[0].refusal == "A started this run by hand and cannot approve it"


def test_two_approvals_must_come_from_two_distinct_people() -> None:
    rules = ApproverRules(("A", "B", "C"), min_approvals=2)
    once = decide(rules, [approve("A")])
    assert once.outcome == "waiting" and once.approvers == ["A"]
    twice = decide(rules, [approve("A"), approve("A")])
    assert twice.outcome == "waiting"
    assert twice.rulings[1].refusal == "A has already approved; 2 distinct approvers needed"
    assert decide(rules, [approve("A"), approve("A"), approve("C")]).approvers == ["A", "C"]


def test_an_authorized_reject_closes_the_gate_even_after_an_approval() -> None:
    rules = ApproverRules(("A", "B"), min_approvals=2)
    verdict = decide(rules, [approve("A"), reject("B", "margins look wrong")])
    assert verdict.outcome == "rejected"
    assert verdict.rejection == reject("B", "margins look wrong")


def test_a_reject_from_someone_not_authorized_is_refused_not_obeyed() -> None:
    verdict = decide(A_OR_B, [reject("D", "no")])
    assert verdict.outcome == "waiting" and verdict.rejection is None
    assert verdict.rulings[0].refusal is not None


def test_the_deadline_denies_even_with_some_approvals() -> None:
    rules = ApproverRules(("A", "B"), min_approvals=2)
    assert decide(rules, [], timed_out=True).outcome == "timed_out"
    partial = decide(rules, [approve("A")], timed_out=True)
    assert partial.outcome == "timed_out" and partial.approvers == ["A"]


def test_answers_after_the_gate_closed_are_not_ruled_on() -> None:
    verdict = decide(A_OR_B, [approve("A"), reject("B"), approve("C")])
    assert verdict.outcome == "approved" and len(verdict.rulings) == 1
    assert decide(A_OR_B, [approve("A")], timed_out=True).outcome == "approved"


def test_a_gate_never_needs_zero_approvals() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ApproverRules(("A",), min_approvals=0)


def test_by_default_on_call_and_owners_may_approve() -> None:
    config = load_governance()
    rules = approver_rules(config, "aggregate_growth", WEEK_1)  # owners C, D
    assert rules.authorized == ("A", "B", "C", "D")
    narrow = approver_rules(config, "unit_profit_experiments", WEEK_1)  # owners A, B
    assert narrow.authorized == ("A", "B")


def test_a_runbook_narrows_or_widens_the_approvers_and_the_starter_is_removed() -> None:
    config = load_governance()
    only = approver_rules(config, "aggregate_growth", WEEK_1, only=["C"], also=["D"])
    assert only.authorized == ("C", "D")
    started = approver_rules(config, "aggregate_growth", WEEK_1, started_by="C")
    assert started.authorized == ("A", "B", "D") and started.started_by == "C"


def test_unknown_approvers_and_impossible_quorums_close_the_gate_before_it_pauses() -> None:
    config = load_governance()
    with pytest.raises(GateClosed, match=r"approvers not in governance\.yaml: Z"):
        approver_rules(config, "aggregate_growth", WEEK_1, also=["Z"])
    with pytest.raises(GateClosed, match=r"only 2 people may approve \(A, B\) but 3 approvals"):
        approver_rules(config, "unit_profit_experiments", WEEK_1, min_approvals=3)


def test_an_invisible_character_in_a_name_is_shown_escaped() -> None:
    rules = ApproverRules(("A", "B"), 1)
    assert refusal(rules, Answer("B\u200b", "approve"), []) == (
        "'B\\u200b' may not answer this gate; authorized: A, B"
    )
