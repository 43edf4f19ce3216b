"""An investor publication is pinned, statically, to the report and feed the approver saw.

A publish step type declares what it sends (`StepType.publishes`): each part is a param that
must carry the sha256 an approver saw, and at run time the step refuses bytes whose sha256
differs. The pin is only worth something if it names the right report. So for an investor
publication the validator requires exactly `{{ steps.<report>.outputs.<output> }}`, where
`<report>` is a report step (its outputs carry that digest) upstream of an approval gate that
is upstream of the publication: the approver saw that report's evidence before deciding.
Every part reaches investors beside the first (the dashboard feed beside the report), so each
is pinned the same way, to the same report step, and can never be left out (its toggle, such
as `feed: false`): investors would read the old feed beside the new report.
"""

from __future__ import annotations

import re

from flows.language.graph import Finding, StepGraph
from flows.language.models import Step
from flows.language.templates import is_template
from recovery_tasks.registry import Pinned, StepType


def _pin_template(part: Pinned) -> re.Pattern[str]:
    return re.compile(
        r"^\s*\{\{\s*steps\.(?P<step>[A-Za-z_]\w*)\.outputs\." + part.output + r"\s*\}\}\s*$"
    )


def check_pinned(
    i: int,
    step: Step,
    step_type: StepType,
    gates: list[str],
    graph: StepGraph,
    types: dict[str, StepType],
) -> list[Finding]:
    """Findings when an investor publish step is not pinned to a report its gate saw."""
    if not step_type.publishes:
        return []
    first = step_type.publishes[0]
    seen = [
        r
        for r in graph.order
        if _is_report(types.get(r), first) and any(graph.is_upstream(r, g) for g in gates)
    ]
    findings: list[Finding] = [
        _left_out(i, step, first, part)
        for part in step_type.publishes[1:]
        if part.toggle is not None and step.with_.get(part.toggle, True) is not True
    ]
    pinned_to: dict[Pinned, str] = {}
    for part in step_type.publishes:
        found, report = _check_one(part, first, i, step, gates, graph, types, seen)
        findings += found
        if report is not None:
            pinned_to[part] = report
    for part, report in pinned_to.items():
        if part != first and first in pinned_to and report != pinned_to[first]:
            findings.append(
                (
                    ("steps", i, "with", part.param),
                    f"{part.param} reads steps.{report} but {first.param} reads "
                    f"steps.{pinned_to[first]}: {first.what} and {_noun(part)} must come from "
                    f"the same {first.what} step",
                    False,
                )
            )
    return findings


def _noun(part: Pinned) -> str:
    """The short name of a part in running text ("feed" for "dashboard feed")."""
    return part.what.split()[-1]


def _left_out(i: int, step: Step, first: Pinned, part: Pinned) -> Finding:
    """The finding for a part left out of an investor publication by its toggle."""
    noun = _noun(part)
    return (
        ("steps", i, "with", str(part.toggle)),
        f"publish step '{step.id}' leaves out the {part.what} of an investor publication: "
        f"investors read the {first.what} and its {noun} together, so the old {noun} would "
        f"stand beside the new {first.what}, and the approver saw a {noun} that would not be "
        f"published; remove `{part.toggle}` (both are published, each pinned)",
        False,
    )


def _check_one(
    part: Pinned,
    first: Pinned,
    i: int,
    step: Step,
    gates: list[str],
    graph: StepGraph,
    types: dict[str, StepType],
    seen: list[str],
) -> tuple[list[Finding], str | None]:
    """Findings for one pin, and the report step it reads when it reads one."""
    pin, output, what = part.param, part.output, part.what
    suggestion = (
        f'`{pin}: "{{{{ steps.{seen[-1]}.outputs.{output} }}}}"`'
        if seen
        else f"a report step (e.g. `uses: reports.build`) before the approval gate, and `{pin}` "
        f"reading its outputs.{output}"
    )
    value = step.with_.get(pin)
    if value is None:
        path: tuple[str | int, ...] = ("steps", i, "with") if step.with_ else ("steps", i, "uses")
        if part == first:
            message = (
                f"publish step '{step.id}' is not pinned to the {what} the approver saw: "
                f"without `{pin}` any bytes would be published; add {suggestion}"
            )
        else:
            message = (
                f"publish step '{step.id}' does not pin the {what} the approver saw: "
                f"without `{pin}` any {_noun(part)} would be published; add {suggestion}"
            )
        return [(path, message, False)], None
    match = _pin_template(part).match(value) if isinstance(value, str) else None
    where = ("steps", i, "with", pin)
    if match is None:
        got = "a fixed value" if not is_template(value) else f"'{value}'"
        return [
            (
                where,
                f"{pin} must be the sha256 of the {what} the approver saw, read as "
                f"`{{{{ steps.<report step>.outputs.{output} }}}}`; found {got}: use {suggestion}",
                False,
            )
        ], None
    report = match["step"]
    if report not in types or not _is_report(types[report], first):
        return [], None  # the template pass says the step or its output does not exist
    if not any(graph.is_upstream(report, g) for g in gates):
        gate = gates[0]
        return [
            (
                where,
                f"{pin} reads steps.{report}, which is not upstream of the approval gate "
                f"'{gate}': the approver never saw that {what}; make '{gate}' need '{report}'"
                + (f" or pin to steps.{seen[-1]}" if seen else ""),
                False,
            )
        ], report
    return [], report


def _is_report(step_type: StepType | None, part: Pinned) -> bool:
    """A step whose outputs carry the sha256 a part is pinned to."""
    return step_type is not None and part.output in step_type.result.model_fields
