"""Warnings about valid runbooks that will surprise their authors at run time.

Nothing here stops a runbook; `runbook validate` and `runbook plan` print each warning with
its file:line:col. Two kinds:

- A gate skipped by a condition upstream. A step with the default `trigger_rule:
  all_success` is skipped when a step it needs is skipped; a gate downstream of a step with
  `when:` (through such steps) is therefore skipped for every failure kind the condition
  excludes, and those runs end without approval, publishing nothing.
- Waiting longer than the SLA. A delay (`first_delay`, `max_delay`) or a cap (`max_wait`)
  longer than the pipeline's whole SLA cannot be what the author meant: the first retry would
  come after the deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flows.language.catalog import PipelineInfo
from flows.language.graph import Finding
from flows.language.models import Runbook, Step
from foundation.durations import format_duration, parse_duration
from recovery_tasks.registry import StepType

DELAYS = ("first_delay", "max_delay", "max_wait")


def runbook_advice(
    spec: Runbook, types: dict[str, StepType], catalog: Mapping[str, PipelineInfo]
) -> list[Finding]:
    """Every warning for a valid runbook, in step order."""
    info = catalog.get(spec.pipeline)
    sla = getattr(info, "sla", None)
    findings: list[Finding] = []
    for i, step in enumerate(spec.steps):
        step_type = types.get(step.id)
        if step_type is not None and step_type.role == "approval":
            findings += _skipping_conditions(i, step, spec)
        if step_type is not None and sla is not None:
            findings += _beyond_sla(i, step, step_type, spec.pipeline, sla)
    return findings


def _skipping_conditions(i: int, gate: Step, spec: Runbook) -> list[Finding]:
    """The gate is skipped whenever a conditional step it depends on (all_success) is."""
    steps = {s.id: s for s in spec.steps}
    conditional: list[Step] = []
    seen: set[str] = set()
    pending = [gate]
    while pending:
        step = pending.pop()
        if step.trigger_rule != "all_success":
            continue  # none_failed: a skipped need does not skip this step
        for need in step.needs:
            upstream = steps.get(need)
            if upstream is None or need in seen:
                continue
            seen.add(need)
            if upstream.when is not None:
                conditional.append(upstream)
            pending.append(upstream)
    return [
        (
            ("steps", i, "needs") if gate.needs else ("steps", i, "uses"),
            f"gate '{gate.id}' is skipped whenever step '{s.id}' is (`when: "
            f"{s.when}`): for the failure kinds that condition excludes the run ends without "
            f"an approval and publishes nothing; give '{gate.id}' (or the step that joins the "
            "branches) `trigger_rule: none_failed`",
            False,
        )
        for s in conditional
    ]


def _beyond_sla(
    i: int, step: Step, step_type: StepType, pipeline: str, sla: timedelta
) -> list[Finding]:
    findings: list[Finding] = []
    for name in DELAYS:
        if name not in step_type.params.model_fields or name not in step.with_:
            continue
        delay = _duration(step.with_[name])
        if delay is not None and delay > sla:
            findings.append(
                (
                    ("steps", i, "with", name),
                    f"{name} {format_duration(delay)} is longer than {pipeline}'s "
                    f"whole SLA ({format_duration(sla)}): the step would wait past the "
                    "deadline; keep it well within the SLA",
                    False,
                )
            )
    return findings


def _duration(value: Any) -> timedelta | None:
    try:
        return parse_duration(value)
    except (TypeError, ValueError):
        return None  # a template: known only at run time
