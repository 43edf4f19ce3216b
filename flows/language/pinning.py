"""An investor publication is pinned, statically, to the report the approver saw.

A publish step whose params take `approved_sha256` refuses at run time to send bytes whose
sha256 differs; the pin is only worth something if it names the right report. So for an
investor publication the validator requires exactly `{{ steps.<report>.outputs.sha256 }}`,
where `<report>` is a report step (its outputs carry `sha256`) upstream of an approval gate
that is upstream of the publication: the approver saw that report's evidence before deciding.
"""

from __future__ import annotations

import re

from flows.language.graph import Finding, StepGraph
from flows.language.models import Step
from flows.language.templates import is_template
from recovery_tasks.registry import StepType

PIN = "approved_sha256"
_PIN_TEMPLATE = re.compile(r"^\s*\{\{\s*steps\.(?P<step>[A-Za-z_]\w*)\.outputs\.sha256\s*\}\}\s*$")


def check_pinned(
    i: int,
    step: Step,
    step_type: StepType,
    gates: list[str],
    graph: StepGraph,
    types: dict[str, StepType],
) -> list[Finding]:
    """Findings when an investor publish step is not pinned to a report its gate saw."""
    if PIN not in step_type.params.model_fields:
        return []
    seen = [
        r
        for r in graph.order
        if _is_report(types.get(r)) and any(graph.is_upstream(r, g) for g in gates)
    ]
    suggestion = (
        f'`{PIN}: "{{{{ steps.{seen[-1]}.outputs.sha256 }}}}"`'
        if seen
        else f"a report step (e.g. `uses: reports.build`) before the approval gate, and `{PIN}` "
        "reading its outputs.sha256"
    )
    value = step.with_.get(PIN)
    if value is None:
        path: tuple[str | int, ...] = ("steps", i, "with") if step.with_ else ("steps", i, "uses")
        return [
            (
                path,
                f"publish step '{step.id}' is not pinned to the report the approver saw: "
                f"without `{PIN}` any bytes would be published; add {suggestion}",
                False,
            )
        ]
    match = _PIN_TEMPLATE.match(value) if isinstance(value, str) else None
    where = ("steps", i, "with", PIN)
    if match is None:
        got = "a fixed value" if not is_template(value) else f"'{value}'"
        return [
            (
                where,
                f"{PIN} must be the sha256 of the report the approver saw, read as "
                f"`{{{{ steps.<report step>.outputs.sha256 }}}}`; found {got}: use {suggestion}",
                False,
            )
        ]
    report = match["step"]
    if report not in types or not _is_report(types[report]):
        return []  # the template pass says the step or its sha256 output does not exist
    if not any(graph.is_upstream(report, g) for g in gates):
        gate = gates[0]
        return [
            (
                where,
                f"{PIN} reads steps.{report}, which is not upstream of the approval gate "
                f"'{gate}': the approver never saw that report; make '{gate}' need '{report}'"
                + (f" or pin to steps.{seen[-1]}" if seen else ""),
                False,
            )
        ]
    return []


def _is_report(step_type: StepType | None) -> bool:
    """A step whose outputs carry the sha256 of what it built."""
    return step_type is not None and "sha256" in step_type.result.model_fields
