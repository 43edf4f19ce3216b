"""The evidence an approver reads in the Prefect UI before answering, as markdown.

What failed and when, every step that ran with its result (counts against the source, each
check with its failing rows, the backfill scope, the new report beside the published one),
and the time left on the SLA. A step type's result model may offer `evidence() -> str` for a
richer section; otherwise its outputs are listed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.events.history import duplicates_line
from governance.incidents.recorder import sla_left
from governance.sla import format_time_left
from recovery_tasks.context import StepContext
from recovery_tasks.registry import all_step_types

STATE_MARK = {
    "completed": "✅",
    "failed": "❌",
    "skipped": "⏭",
    "upstream_failed": "⛔",
    "rejected": "🚫",
}


def evidence_markdown(
    ctx: StepContext,
    authorized: list[str],
    needed: int,
    approvals: list[str],
    notes: list[str],
    *,
    pipeline: str | None = None,
) -> str:
    """The description shown above the Resume form; `pipeline` is the one the gate publishes
    (its people answer), when it is not the runbook's own."""
    incident = ctx.incident
    published = pipeline or ctx.pipeline
    lines = [_question(ctx, published)]
    for note in notes:
        lines.append(f"> ⚠️ {note}")
    if published != ctx.pipeline:
        lines.append(
            f"> Publishes `{published}` from the recovery of `{ctx.pipeline}`: "
            f"`{published}`'s on-call engineers and owners answer."
        )
    lines += [
        "",
        f"**Runbook** `{ctx.runbook}` · **incident** {incident.get('id', '-')} · "
        f"**failure** {incident.get('kind', '-')} · **partition** "
        f"{incident.get('partition') or ctx.params.get('partition', '-')}",
        f"**Failed at** {incident.get('opened_at', '-')} · **SLA** {_sla_text(incident)}",
    ]
    if incident.get("detail"):
        lines.append(f"**What failed**: {incident['detail']}")
    if (duplicates := duplicates_line(ctx)) is not None:
        lines.append(f"**Further failure events**: {duplicates}")
    lines += [
        "",
        f"**Who may answer**: {', '.join(authorized)} · approvals needed: {needed}"
        + (f" · so far: {', '.join(approvals)}" if approvals else ""),
        "",
    ]
    lines += ["### Steps", "", "| step | type | state | result |", "|---|---|---|---|"]
    for step_id, outcome in ctx.steps.items():
        summary = _one_line(outcome.outputs) if outcome.outputs else (outcome.message or "")
        lines.append(
            f"| {step_id} | {ctx.uses.get(step_id, '')} | "
            f"{STATE_MARK.get(outcome.state, '')} {outcome.state} | {summary} |"
        )
    for step_id, outcome in ctx.steps.items():
        section = _rich_section(ctx.uses.get(step_id), outcome.outputs)
        if section:
            lines += ["", f"### {step_id}", "", section]
    return "\n".join(lines) + "\n"


def _question(ctx: StepContext, published: str) -> str:
    """What the gate asks: an annotation gate asks for the note, others for the approval."""
    if ctx.uses.get(ctx.step_id) == "approval.annotate":
        return (
            f"## Annotate the swing in `{ctx.pipeline}`?\n\n"
            "A check failed that a person may explain (a launch, a campaign). To record the "
            "explanation, **approve with the note as your comment**: it goes to the warehouse, "
            "the audit and the published report's notes, and the checks run again. Reject if "
            "the swing is a fault."
        )
    return f"## Approve republishing `{published}`?"


def _sla_text(incident: dict[str, Any]) -> str:
    left = sla_left(incident, datetime.now(UTC))
    if left is None:
        return "-"
    text = format_time_left(left)
    shown = f"**{text}**" if left <= timedelta(0) else text
    whose = f" on `{incident['sla_of']}`'s SLA" if incident.get("sla_of") else ""
    return f"{shown}{whose} (deadline {incident['deadline']})"


def _one_line(outputs: dict[str, Any]) -> str:
    text = json.dumps(outputs, default=str, separators=(", ", ": "))
    text = text.replace("|", "\\|")
    return text if len(text) <= 160 else text[:157] + "..."


def _rich_section(uses: str | None, outputs: dict[str, Any] | None) -> str | None:
    if not uses or not outputs:
        return None
    step_type = all_step_types().get(uses)
    if step_type is None or not hasattr(step_type.result, "evidence"):
        return None
    try:
        return step_type.result.model_validate(outputs).evidence()
    except Exception:  # evidence must never block a gate; the table above still shows it
        return None
