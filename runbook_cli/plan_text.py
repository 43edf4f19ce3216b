"""`runbook plan` as text: the order steps run in, the gates, the failure handlers, warnings."""

from __future__ import annotations

import json

from flows.language.plan import Plan, PlannedStep

HEADER = (
    "order (steps of one stage can run at the same time; a step starts as soon as its own "
    "needs have finished, an approval gate once everything before it has):"
)


def render_plan(plan: Plan) -> str:
    """The plan as the author reads it in a terminal."""
    kind = "investor-reporting" if plan.investor_reporting else "internal"
    lines = [
        f"runbook {plan.runbook} for pipeline {plan.pipeline} ({kind})",
        f"params: {json.dumps(plan.params, default=str)}",
    ]
    lines += [f"warning: {w}" for w in plan.warnings]
    lines.append(HEADER)
    for number, stage in enumerate(plan.stages, start=1):
        head = f"{number:>4}. "
        if len(stage.steps) > 1:
            lines.append(f"{head}at the same time: {', '.join(s.id for s in stage.steps)}")
            for step in stage.steps:
                lines += _step_lines(step, " " * len(head) + "- ")
        else:
            lines += _step_lines(stage.steps[0], head)
    if plan.handlers:
        lines.append("on failure (in order, once the run has failed):")
        for step in plan.handlers:
            lines += _step_lines(step, "      - ")
    return "\n".join(lines) + "\n"


def _step_lines(step: PlannedStep, head: str) -> list[str]:
    pad = " " * (len(head) + 4)
    if step.role == "approval":
        limit = f", at most {step.timeout}" if step.timeout else ""
        first = f"{head}⏸ {step.id}: {step.uses} [the run pauses for approval{limit}]"
    else:
        first = f"{head}{step.id}: {step.uses}"
    out = [f"{first} - {step.summary}" if step.summary else first]
    if step.needs:
        out.append(f"{pad}after: {', '.join(step.needs)}")
    if step.trigger_rule != "all_success":
        out.append(f"{pad}trigger_rule: {step.trigger_rule} (a skipped need does not skip it)")
    if step.when:
        out.append(f"{pad}when: {step.when}")
    if step.retries:
        out.append(f"{pad}retries: {step.retries}")
    if step.timeout and step.role != "approval":
        out.append(f"{pad}timeout: {step.timeout}")
    out += [f"{pad}{key} = {json.dumps(value, default=str)}" for key, value in step.with_.items()]
    return out
