"""Who may answer a gate, and how many must, is written down: never taken from an event.

An approval step's `approvers`, `also`, `min_approvals`, `reuse_approval` and `pipeline`
(whose on-call engineers and owners it asks) decide who can open it. A template there would
let the event that started the run (or a step's output) widen the circle of approvers or
lower the bar, so each must be literal: names of engineers in governance.yaml, a number, a
boolean, a pipeline; leave `approvers` out for the on-call engineers and owners that
governance resolves at the gate.
"""

from __future__ import annotations

from typing import Any

from flows.language.graph import Finding
from flows.language.models import Runbook
from flows.language.templates import is_template
from recovery_tasks.registry import StepType

GOVERNED = ("approvers", "also", "min_approvals", "reuse_approval", "pipeline")


def check_gate_inputs(spec: Runbook, types: dict[str, StepType]) -> list[Finding]:
    """A finding for every template in a field that decides who may answer a gate."""
    findings: list[Finding] = []
    for i, step in enumerate(spec.steps):
        step_type = types.get(step.id)
        if step_type is None or step_type.role != "approval":
            continue
        for name in GOVERNED:
            for path, text in _templates(step.with_.get(name), ("steps", i, "with", name)):
                findings.append(
                    (
                        path,
                        f"`{name}` decides who may open gate '{step.id}': it cannot be a "
                        f"template ('{text}'), or the event that started the run could choose "
                        "its own approvers; write it literally (names from governance.yaml, or "
                        "no `approvers` for the on-call engineers and owners)",
                        False,
                    )
                )
    return findings


def _templates(value: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    if is_template(value):
        return [(path, str(value))]
    if isinstance(value, list):
        return [hit for j, item in enumerate(value) for hit in _templates(item, (*path, j))]
    return []
