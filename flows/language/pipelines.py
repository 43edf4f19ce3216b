"""Pipelines a runbook names besides its own: in a step's `with: {pipeline: ...}` and in `on:`.

A step may work on another pipeline than the runbook's (`with: {pipeline: aggregate_growth}`);
that pipeline must exist, and the policy follows it (`step_pipeline`). A trigger that matches
another pipeline's resource would start this recovery for that pipeline's failure: refused.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Mapping
from typing import Any

from flows.language.catalog import PipelineInfo
from flows.language.graph import Finding
from flows.language.models import Runbook, Step
from flows.language.templates import TemplateRenderError, is_template, render_value

RESOURCE_LABELS = ("prefect.resource.id", "prefect.resource.name")


def step_pipeline(step: Step, runbook_pipeline: str) -> str | None:
    """The pipeline a step works on: its `with.pipeline`, else the runbook's; None if templated."""
    named = step.with_.get("pipeline")
    if named is None:
        return runbook_pipeline
    return None if is_template(named) or not isinstance(named, str) else named


def other_partition(
    step: Step, runbook_pipeline: str, namespace: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(pipeline, partition) of another pipeline this step works on, rendered; None for the
    runbook's own pipeline, or when either is not known before the step runs."""
    pipeline = step_pipeline(step, runbook_pipeline)
    if pipeline is None or pipeline == runbook_pipeline:
        return None
    try:
        partition = render_value(step.with_.get("partition"), namespace)
    except TemplateRenderError:
        return None  # the step itself fails on it, saying why
    return (pipeline, partition) if isinstance(partition, str) and partition else None


def check_pipeline_references(spec: Runbook, catalog: Mapping[str, PipelineInfo]) -> list[Finding]:
    """Unknown pipelines under `with: pipeline:`; triggers matching other pipelines' events."""
    findings: list[Finding] = []
    for section, steps in (("steps", spec.steps), ("on_failure", spec.on_failure)):
        for i, step in enumerate(steps):
            named = step.with_.get("pipeline")
            if isinstance(named, str) and not is_template(named) and named not in catalog:
                findings.append(
                    ((section, i, "with", "pipeline"), unknown_pipeline(named, catalog), False)
                )
    if spec.pipeline not in catalog:
        return findings
    for i, trigger in enumerate(spec.on):
        for label in RESOURCE_LABELS:
            wanted = trigger.match.get(label)
            values = [wanted] if isinstance(wanted, str) else list(wanted or [])
            for j, value in enumerate(values):
                path: tuple[str | int, ...] = ("on", i, "match", label)
                if not isinstance(wanted, str):
                    path = (*path, j)
                message = _trigger_problem(label, value, spec.pipeline, catalog)
                if message:
                    findings.append((path, message, False))
    return findings


def unknown_pipeline(name: str, catalog: Mapping[str, PipelineInfo]) -> str:
    """Say a pipeline is not in governance.yaml, with the closest name and the known ones."""
    close = difflib.get_close_matches(name, list(catalog), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    known = ", ".join(sorted(catalog))
    return f"unknown pipeline '{name}'; {hint}pipelines in governance.yaml: {known}"


def _resources(info: PipelineInfo, label: str) -> tuple[str, ...]:
    if label == "prefect.resource.id":
        return (info.resource_id,)
    return tuple(dict.fromkeys((info.name, info.flow_name)))


def _trigger_problem(
    label: str, value: str, own: str, catalog: Mapping[str, PipelineInfo]
) -> str | None:
    """Why this match value would start the recovery for another pipeline, if it would."""
    matched = [
        name
        for name, info in catalog.items()
        if any(fnmatch.fnmatchcase(r, value) for r in _resources(info, label))
    ]
    others = [name for name in matched if name != own]
    expected = _resources(catalog[own], label)[-1]
    if others:
        which = f"pipeline '{others[0]}'" if len(others) == 1 else f"pipelines {', '.join(others)}"
        return (
            f"{label} '{value}' matches events of {which}, but this runbook recovers "
            f"'{own}': that failure would start the wrong recovery; match '{expected}'"
        )
    if not matched and label == "prefect.resource.id" and value.startswith("pipeline."):
        name = value.removeprefix("pipeline.")
        return f"{label} '{value}' matches no pipeline: {unknown_pipeline(name, catalog)}"
    return None
