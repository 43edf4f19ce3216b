"""An investor publication is pinned, statically, to the report and feed the approver saw.

A publish step whose params take `approved_sha256` refuses at run time to send bytes whose
sha256 differs; the pin is only worth something if it names the right report. So for an
investor publication the validator requires exactly `{{ steps.<report>.outputs.sha256 }}`,
where `<report>` is a report step (its outputs carry `sha256`) upstream of an approval gate
that is upstream of the publication: the approver saw that report's evidence before deciding.
The dashboard feed reaches investors beside the report, so it must be pinned the same way
(`approved_feed_sha256` reading the same report step's `outputs.feed_sha256`) and can never
be left out (`feed: false`): investors would read the old feed beside the new report.
"""

from __future__ import annotations

import re

from flows.language.graph import Finding, StepGraph
from flows.language.models import Step
from flows.language.templates import is_template
from recovery_tasks.registry import StepType

PIN = "approved_sha256"
FEED_PIN = "approved_feed_sha256"
OUTPUT_OF = {PIN: "sha256", FEED_PIN: "feed_sha256"}
_PIN_TEMPLATES = {
    pin: re.compile(
        r"^\s*\{\{\s*steps\.(?P<step>[A-Za-z_]\w*)\.outputs\." + output + r"\s*\}\}\s*$"
    )
    for pin, output in OUTPUT_OF.items()
}


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
    pins = [PIN]
    findings: list[Finding] = []
    if FEED_PIN in step_type.params.model_fields:
        pins.append(FEED_PIN)
        if step.with_.get("feed", True) is not True:
            findings.append(
                (
                    ("steps", i, "with", "feed"),
                    f"publish step '{step.id}' leaves out the dashboard feed of an investor "
                    "publication: investors read the report and its feed together, so the old "
                    "feed would stand beside the new report, and the approver saw a feed that "
                    "would not be published; remove `feed` (both are published, each pinned)",
                    False,
                )
            )
    pinned_to: dict[str, str] = {}
    for pin in pins:
        found, report = _check_one(pin, i, step, gates, graph, types, seen)
        findings += found
        if report is not None:
            pinned_to[pin] = report
    if len(set(pinned_to.values())) > 1:
        findings.append(
            (
                ("steps", i, "with", FEED_PIN),
                f"{FEED_PIN} reads steps.{pinned_to[FEED_PIN]} but {PIN} reads "
                f"steps.{pinned_to[PIN]}: report and feed must come from the same report step",
                False,
            )
        )
    return findings


def _check_one(
    pin: str,
    i: int,
    step: Step,
    gates: list[str],
    graph: StepGraph,
    types: dict[str, StepType],
    seen: list[str],
) -> tuple[list[Finding], str | None]:
    """Findings for one pin, and the report step it reads when it reads one."""
    output = OUTPUT_OF[pin]
    what = "report" if pin == PIN else "dashboard feed"
    suggestion = (
        f'`{pin}: "{{{{ steps.{seen[-1]}.outputs.{output} }}}}"`'
        if seen
        else f"a report step (e.g. `uses: reports.build`) before the approval gate, and `{pin}` "
        f"reading its outputs.{output}"
    )
    value = step.with_.get(pin)
    if value is None:
        path: tuple[str | int, ...] = ("steps", i, "with") if step.with_ else ("steps", i, "uses")
        if pin == PIN:
            message = (
                f"publish step '{step.id}' is not pinned to the report the approver saw: "
                f"without `{PIN}` any bytes would be published; add {suggestion}"
            )
        else:
            message = (
                f"publish step '{step.id}' does not pin the dashboard feed the approver saw: "
                f"without `{FEED_PIN}` any feed would be published; add {suggestion}"
            )
        return [(path, message, False)], None
    match = _PIN_TEMPLATES[pin].match(value) if isinstance(value, str) else None
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
    if report not in types or not _is_report(types[report]):
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


def _is_report(step_type: StepType | None) -> bool:
    """A step whose outputs carry the sha256 of what it built."""
    return step_type is not None and "sha256" in step_type.result.model_fields
