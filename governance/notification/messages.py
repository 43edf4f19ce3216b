"""One message model for every notification the project sends.

A gate that opens, an escalation, a gate that timed out, an SLA threshold or breach, a failed
recovery, a runbook's own notice: each is a `Message` of one kind, delivered the same way
(`governance.notification.notify.Notifier`, Apprise URLs per engineer) and recorded the same
way (one ledger row per attempt, the kind as its `reason`). The constructors below hold the
wording, so the gate, the escalation flow, the SLA watch and the notify step say things alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from foundation.durations import format_duration

MessageKind = Literal[
    "approval_requested",
    "approval_code",
    "annotation_code",
    "escalation",
    "approval_timed_out",
    "sla_threshold",
    "sla_breached",
    "recovery_failed",
    "runbook_notice",
]
Severity = Literal["info", "warning", "failure"]

SEVERITY: dict[str, Severity] = {
    "approval_requested": "info",
    "approval_code": "info",
    "annotation_code": "info",
    "runbook_notice": "info",
    "sla_threshold": "warning",
    "escalation": "warning",
    "approval_timed_out": "failure",
    "sla_breached": "failure",
    "recovery_failed": "failure",
}


@dataclass(frozen=True)
class Message:
    """What to tell people: a kind, a subject line, the text, and what it is about.

    `reason` is what the ledger records (the kind unless given, e.g. `runbook:aggregate-profit`
    for a runbook's notify step); `facts` are extra fields a JSON webhook receives.
    """

    kind: str
    subject: str
    text: str
    incident_id: int | None = None
    pipeline: str | None = None
    link: str | None = None
    reason: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ledger_reason(self) -> str:
        """The `reason` column of each attempt's ledger row."""
        return self.reason or self.kind

    @property
    def severity(self) -> Severity:
        """How loud the channel should be (Apprise's notification type)."""
        return SEVERITY.get(self.kind, "info")

    @property
    def title(self) -> str:
        return f"[runbook] {self.subject}"

    @property
    def body(self) -> str:
        """The text, with the link on its own line unless the text already has it."""
        if self.link and self.link not in self.text:
            return f"{self.text}\n{self.link}"
        return self.text

    def fields(self) -> dict[str, str]:
        """Structured fields for receivers that take them (JSON, form and XML webhooks)."""
        values: dict[str, Any] = {
            "reason": self.ledger_reason,
            "kind": self.kind,
            "incident_id": self.incident_id,
            "pipeline": self.pipeline,
            "link": self.link,
            **self.facts,
        }
        return {k: str(v) for k, v in values.items() if v is not None}


def plain(
    reason: str,
    text: str,
    *,
    incident_id: int | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Message:
    """A message from a reason and a text (callers that predate the constructors below)."""
    kind = reason if reason in SEVERITY else "runbook_notice"
    return Message(
        kind, reason.replace("_", " "), text, incident_id, reason=reason, facts=dict(facts or {})
    )


def approval_requested(pipeline: str, incident_id: int | None, link: str | None) -> Message:
    """A gate opened and waits for the person told."""
    return Message(
        "approval_requested",
        f"{pipeline}: approval needed",
        f"{pipeline}: recovery of incident {incident_id} waits for your approval",
        incident_id,
        pipeline,
        link,
    )


def approval_code(
    pipeline: str,
    incident_id: int | None,
    approver: str,
    code: str,
    flow_run_id: str,
    valid_until: datetime,
    link: str | None,
    page_link: str | None = None,
) -> Message:
    """An approver's own code for one gate: sent only to that engineer's contacts.

    The text carries every way to answer: the signed link to the approval page when one is
    served (one tap from a phone, no Prefect login), the run's page in the Prefect UI (Resume
    form, code field) and the `runbook approve` command line.
    """
    tap = f"Answer on your phone: {page_link} . Or enter" if page_link else "Enter"
    facts = {"approval_code": code, "approver": approver, "flow_run_id": flow_run_id}
    return Message(
        "approval_code",
        f"{pipeline}: your approval code",
        f"{pipeline}: your approval code for incident {incident_id} is {code} (valid until "
        f"{valid_until:%Y-%m-%d %H:%M %Z}; it works once, only for you and only at this gate). "
        f"{tap} it in the Resume form's code field, or run: runbook approve {flow_run_id} "
        f"--as {approver} --code {code}",
        incident_id,
        pipeline,
        page_link or link,
        facts={**facts, "approval_link": page_link} if page_link else facts,
    )


def annotation_code(
    pipeline: str,
    partition: str,
    checks: list[str],
    incident_id: int | None,
    approver: str,
    code: str,
    valid_until: datetime,
) -> Message:
    """An engineer's own code to explain a swing of one partition: sent only to them.

    It names both ways to answer: the annotation gate's Resume form (where the gate's own
    approval code counts) and `runbook annotate` with this code.
    """
    return Message(
        "annotation_code",
        f"{pipeline} {partition}: your annotation code",
        f"{pipeline} {partition}: {', '.join(checks)} failed. If the numbers really moved (a "
        "launch, a campaign), say why: answer the annotation gate (with the approval code it "
        "sends you) with the reason as the comment, or run: "
        f"runbook annotate {pipeline} {partition} --as {approver} --code "
        f"{code} --note 'why the numbers moved'. The code {code} works only for you and only "
        f"for this partition, until {valid_until:%Y-%m-%d %H:%M %Z}.",
        incident_id,
        pipeline,
        facts={"annotation_code": code, "approver": approver, "partition": partition},
    )


def escalation(
    pipeline: str,
    incident_id: int | None,
    unanswered_for: timedelta,
    link: str | None,
    *,
    flow_run_id: str | None = None,
) -> Message:
    """Nobody answered a gate in time: the backup and the owners are told."""
    return Message(
        "escalation",
        f"Escalation: {pipeline} approval unanswered",
        f"Nobody has answered the approval of {pipeline} (incident {incident_id}) for "
        f"{format_duration(unanswered_for)}. Please review",
        incident_id,
        pipeline,
        link,
        facts={"unanswered_for": format_duration(unanswered_for), "flow_run_id": flow_run_id},
    )


def approval_timed_out(
    pipeline: str, incident_id: int | None, timeout: timedelta, link: str | None
) -> Message:
    """The gate gave up: nothing was published and the incident stays open."""
    return Message(
        "approval_timed_out",
        f"{pipeline}: approval timed out",
        f"{pipeline}: nobody approved within {format_duration(timeout)}; nothing was published "
        f"and incident {incident_id} stays open",
        incident_id,
        pipeline,
        link,
    )


def sla_threshold(
    pipeline: str,
    incident_id: int,
    kind: str,
    partition: str | None,
    threshold: float,
    time_left: str,
    state: str,
) -> Message:
    """A share of the SLA has been used while the incident is open."""
    return Message(
        "sla_threshold",
        f"{pipeline}: {threshold:.0%} of the SLA used",
        f"{pipeline} incident {incident_id} ({kind}, {partition}) has used {threshold:.0%} of "
        f"its SLA: {time_left}; state {state}",
        incident_id,
        pipeline,
        facts={"threshold": threshold},
    )


def sla_breached(pipeline: str, incident_id: int, deadline: datetime) -> Message:
    """The SLA deadline passed and the incident is still open."""
    return Message(
        "sla_breached",
        f"{pipeline}: SLA breached",
        f"{pipeline} incident {incident_id} breached its SLA (deadline "
        f"{deadline:%Y-%m-%d %H:%M %Z})",
        incident_id,
        pipeline,
        facts={"deadline": deadline.isoformat()},
    )


def runbook_notice(
    runbook: str, pipeline: str, incident_id: int | None, text: str, *, failed: bool
) -> Message:
    """A runbook's notify step; `failed` when it runs because the recovery failed."""
    kind = "recovery_failed" if failed else "runbook_notice"
    subject = f"{runbook}: recovery failed" if failed else f"{runbook}: notice"
    return Message(kind, subject, text, incident_id, pipeline, reason=f"runbook:{runbook}")
