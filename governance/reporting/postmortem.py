"""The post-incident report (`runbook audit N --markdown`): one incident, from the ledger.

What a post-incident review starts from: what failed and when, the timeline, the evidence each
step produced, who was asked and who approved (refused answers included), who was told and
whether it reached them, what was published with its receipt, and how much of the SLA it used.
Everything comes from the append-only ledger, so the report can be written again at any time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from foundation.durations import format_duration
from governance.ledger.audit_ledger import Ledger
from governance.ledger.records import RESOLVED_STATES, Incident, IncidentEvent
from governance.models import GovernanceConfig


@dataclass(frozen=True)
class SlaUse:
    """How much of the SLA an incident used, and the verdict."""

    sla: timedelta
    deadline: datetime
    used: timedelta
    verdict: str  # met, missed, open

    @property
    def share(self) -> float:
        return self.used / self.sla


def sla_use(
    incident: Incident, events: list[IncidentEvent], sla: timedelta, now: datetime
) -> SlaUse:
    """The SLA used until the incident resolved (or until `now` while it is open)."""
    resolved = [e.at for e in events if e.state in RESOLVED_STATES]
    breached = any(e.state == "breached" for e in events)
    end = min(resolved) if resolved else now
    used = end - incident.opened_at
    if resolved:
        verdict = "met" if used <= sla and not breached else "missed"
    else:
        verdict = "missed" if breached or used > sla else "open"
    return SlaUse(sla, incident.opened_at + sla, used, verdict)


def post_incident_markdown(
    ledger: Ledger, config: GovernanceConfig, incident_id: int, now: datetime
) -> str:
    """The whole report as Markdown (LedgerError if the incident is unknown)."""
    inc = ledger.incidents.get(incident_id)
    events = ledger.incidents.events(incident_id)
    pipeline = config.pipelines.get(inc.pipeline)
    where = f" {inc.partition}" if inc.partition else ""
    lines = [
        f"# Incident {inc.id}: {inc.pipeline}{where} — {inc.kind}",
        "",
        f"- **State now**: {ledger.incidents.current_state(incident_id)}",
        f"- **Failed at**: {_time(inc.opened_at)}",
        f"- **Runbook**: {inc.runbook or '-'} · **flow run** {inc.flow_run_id or '-'}",
    ]
    if pipeline is not None:
        use = sla_use(inc, events, pipeline.sla, now)
        lines += [
            f"- **Owners**: {pipeline.primary} (primary), {pipeline.secondary}",
            f"- **SLA**: {format_duration(pipeline.sla)}, deadline {_time(use.deadline)}; used "
            f"{format_duration(_whole(use.used))} ({use.share:.0%}): **{use.verdict}**",
        ]
    else:
        lines.append("- **SLA**: unknown (the pipeline is no longer in the governance file)")
    lines += ["", *_timeline(ledger, incident_id), "", *_evidence(ledger, incident_id)]
    lines += ["", *_approvals(ledger, incident_id), *_annotations(events)]
    lines += ["", *_notifications(ledger, incident_id)]
    lines += ["", *_publications(ledger, incident_id)]
    return "\n".join(lines) + "\n"


def _timeline(ledger: Ledger, incident_id: int) -> list[str]:
    rows = [(_time(s.at), s.what, s.detail) for s in ledger.incident_story(incident_id)]
    return ["## Timeline", "", *_table(("time (UTC)", "what", "detail"), rows)]


def _evidence(ledger: Ledger, incident_id: int) -> list[str]:
    rows = []
    for s in ledger.steps.of_incident(incident_id):
        result = s.result or {}
        shown = (
            result.get("outputs") or result.get("message") if isinstance(result, dict) else result
        )
        took = (
            format_duration(_whole(s.ended_at - s.started_at))
            if s.started_at and s.ended_at
            else "-"
        )
        rows.append((s.step_id, s.state, took, _compact(shown)))
    if not rows:
        return ["## Evidence", "", "No step results were recorded."]
    return ["## Evidence", "", *_table(("step", "state", "took", "result"), rows)]


def _approvals(ledger: Ledger, incident_id: int) -> list[str]:
    requests = ledger.approvals.requests(incident_id)
    if not requests:
        return ["## Approval", "", "No approval was asked for."]
    lines = ["## Approval", ""]
    approved_by: list[str] = []
    for req in requests:
        lines.append(
            f"- {req.pause_key} at {_time(req.requested_at)}: {req.min_approvals} of "
            f"{', '.join(req.approvers)}"
            + (f"; escalation due {_time(req.escalate_at)}" if req.escalate_at else "")
        )
        for ans in ledger.approvals.answers(req.id):
            ruling = "counted" if ans.authorized else f"refused: {ans.reason}"
            comment = f' — "{ans.comment}"' if ans.comment else ""
            lines.append(
                f"  - {_time(ans.answered_at)} {ans.who} {ans.decision} ({ruling}){comment}"
            )
            if ans.authorized and ans.decision == "approve":
                approved_by.append(ans.who)
    lines += ["", f"**Approved by**: {', '.join(approved_by) or 'nobody'}"]
    return lines


def _annotations(events: list[IncidentEvent]) -> list[str]:
    """Who explained the partition's numbers, and how (nothing when nobody had to)."""
    notes = [e for e in events if e.state == "annotated"]
    if not notes:
        return []
    lines = ["", "## Annotations", ""]
    for e in notes:
        detail = e.detail if isinstance(e.detail, dict) else {"note": e.detail}
        proof = f" (identified by {detail['proof']})" if detail.get("proof") else ""
        lines.append(f'- {_time(e.at)} {e.actor}{proof}: "{detail.get("note", "")}"')
    return lines


def _notifications(ledger: Ledger, incident_id: int) -> list[str]:
    rows = [
        (_time(n.sent_at), n.recipient, n.reason, f"{n.channel} {n.target or ''}".strip(),
         "delivered" if n.delivered else f"not delivered: {n.detail or 'unknown'}")
        for n in ledger.notifications.of_incident(incident_id)
    ]  # fmt: skip
    escalations = [e for e in ledger.incidents.events(incident_id) if e.state == "escalated"]
    head = ["## Notifications and escalations", ""]
    if escalations:
        head += [
            f"Escalated {len(escalations)} time(s): "
            + "; ".join(
                f"{_time(e.at)} to {', '.join((e.detail or {}).get('to', []))}" for e in escalations
            ),
            "",
        ]
    if not rows:
        return [*head, "Nobody was notified."]
    return [*head, *_table(("time (UTC)", "to", "reason", "channel", "outcome"), rows)]


def _publications(ledger: Ledger, incident_id: int) -> list[str]:
    rows = [
        (_time(p.published_at), p.kind, f"{p.pipeline}/{p.partition}",
         "" if p.version is None else str(p.version), p.receipt_id, p.sha256[:12])
        for p in ledger.publications.of_incident(incident_id)
    ]  # fmt: skip
    if not rows:
        return ["## Published", "", "Nothing was published."]
    return [
        "## Published",
        "",
        *_table(("at", "what", "partition", "version", "receipt", "sha256"), rows),
    ]


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _compact(value: Any) -> str:
    if value is None:
        return ""
    text = (
        value if isinstance(value, str) else json.dumps(value, default=str, separators=(", ", ": "))
    )
    return text if len(text) <= 200 else text[:197] + "..."


def _time(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}"


def _whole(delta: timedelta) -> timedelta:
    return timedelta(seconds=round(delta.total_seconds()))
