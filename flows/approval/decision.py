"""What a gate makes of the answers it has received: a pure function, no Prefect, no ledger.

Fail closed: only authorized approvals from enough distinct people open the gate. An answer
from someone not authorized, from whoever started the run by hand, an answer whose
identity is not proven (`Answer.unproven`, see `flows.approval.identity`), or a second answer
from the same person is refused (and says why); a reject from an authorized person closes the gate;
a deadline with too few approvals denies. Nothing here ever approves by default.

The gate loop (`flows.approval.gate`) pauses, collects answers and asks `decide` after each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from foundation.visible import visible
from governance.models import GovernanceConfig
from governance.oncall.responders import authorized_approvers
from recovery_tasks.errors import GateClosed

Decision = Literal["approve", "reject"]
Outcome = Literal["waiting", "approved", "rejected", "timed_out"]


@dataclass(frozen=True)
class ApproverRules:
    """Who may answer this gate and how many distinct approvals open it."""

    authorized: tuple[str, ...]
    min_approvals: int
    started_by: str | None = None  # whoever started the run by hand: never an approver

    def __post_init__(self) -> None:
        if self.min_approvals < 1:
            raise ValueError("min_approvals must be at least 1: a gate never opens by itself")


def approver_rules(
    config: GovernanceConfig,
    pipeline: str,
    now: datetime,
    *,
    only: Sequence[str] | None = None,
    also: Sequence[str] = (),
    min_approvals: int = 1,
    started_by: str | None = None,
) -> ApproverRules:
    """On-call and owners at `now` by default, narrowed (`only`) or widened (`also`).

    Raises GateClosed when the runbook names people governance does not know, or when fewer
    people may approve than approvals are required (the gate could never open).
    """
    base = set(only) if only is not None else set(authorized_approvers(config, pipeline, now))
    unknown = sorted((base | set(also)) - set(config.engineers))
    if unknown:
        raise GateClosed(f"approvers not in governance.yaml: {', '.join(unknown)}")
    allowed = sorted((base | set(also)) - {started_by})
    if len(allowed) < min_approvals:
        raise GateClosed(
            f"only {len(allowed)} people may approve ({', '.join(allowed)}) but "
            f"{min_approvals} approvals are required"
        )
    return ApproverRules(tuple(allowed), min_approvals, started_by)


@dataclass(frozen=True)
class Answer:
    """One answer as given (the Resume form or `runbook approve/reject`)."""

    who: str
    decision: Decision
    comment: str = ""
    unproven: str | None = None  # why the answer is not proven to come from `who`, if so


@dataclass(frozen=True)
class Ruling:
    """What the gate made of one answer: counted, or refused with the reason."""

    answer: Answer
    refusal: str | None = None

    @property
    def counted(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class Verdict:
    """The gate's state after some answers: still waiting, or closed one way or the other."""

    outcome: Outcome
    rulings: tuple[Ruling, ...]
    approvals: tuple[Answer, ...] = ()
    rejection: Answer | None = None

    @property
    def approvers(self) -> list[str]:
        return [a.who for a in self.approvals]

    @property
    def comments(self) -> list[str]:
        return [a.comment for a in self.approvals if a.comment]

    @property
    def notes(self) -> list[str]:
        """One line per refused answer, for the top of the evidence."""
        return [
            f"Answer from '{visible(r.answer.who)}' refused: {r.refusal}"
            for r in self.rulings
            if r.refusal
        ]


def refusal(rules: ApproverRules, answer: Answer, approved_by: Sequence[str]) -> str | None:
    """Why this answer cannot count (None when it can); names shown with invisible characters
    escaped, so "B" with a zero-width space never reads as the approver "B"."""
    who = answer.who
    if answer.unproven is not None:
        return answer.unproven
    if who and who == rules.started_by:
        return f"{visible(who)} started this run by hand and cannot approve it"
    if who not in rules.authorized:
        return (
            f"'{visible(who)}' may not answer this gate; authorized: {', '.join(rules.authorized)}"
        )
    if who in approved_by:
        return f"{who} has already approved; {rules.min_approvals} distinct approvers needed"
    return None


def decide(rules: ApproverRules, answers: Sequence[Answer], *, timed_out: bool = False) -> Verdict:
    """The verdict after `answers` (in the order given); `timed_out` once the deadline passed.

    Answers after the gate closed (enough approvals, or a reject) are not ruled on: a late
    answer changes nothing.
    """
    rulings: list[Ruling] = []
    approvals: list[Answer] = []
    for answer in answers:
        why = refusal(rules, answer, [a.who for a in approvals])
        rulings.append(Ruling(answer, why))
        if why is not None:
            continue
        if answer.decision == "reject":
            return Verdict("rejected", tuple(rulings), tuple(approvals), answer)
        approvals.append(answer)
        if len(approvals) >= rules.min_approvals:
            return Verdict("approved", tuple(rulings), tuple(approvals))
    outcome: Outcome = "timed_out" if timed_out else "waiting"
    return Verdict(outcome, tuple(rulings), tuple(approvals))
