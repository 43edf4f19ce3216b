"""All validation passes over one runbook file, with every problem reported together.

Order: YAML (positions, duplicate keys) -> models (pydantic, strict) -> step types and their
`with:` params -> graph (ids, needs, cycles) -> templates (names, upstream reads) -> policy.
Later passes run on whatever the earlier ones could make sense of, so one typo does not hide
the next. Nothing is compiled, deployed or run from a file with any problem.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flows.language.advice import runbook_advice
from flows.language.catalog import PipelineCatalog, PipelineInfo
from flows.language.errors import Problem, RunbookValidationError, display_path
from flows.language.gate_inputs import check_gate_inputs
from flows.language.graph import Finding, StepGraph, build_graph
from flows.language.messages import runbook_message
from flows.language.models import IDENTIFIER, Runbook, Step
from flows.language.partial import partial_runbook
from flows.language.partitions import PartitionRule, partition_params
from flows.language.pipelines import check_pipeline_references, unknown_pipeline
from flows.language.policy import check_approvers, check_policy
from flows.language.step_params import step_types_of
from flows.language.template_checks import check_templates
from foundation.pydantic_errors import pydantic_problems
from foundation.yaml_source import YamlSource, load_mapping
from recovery_tasks.registry import StepType


@dataclass(frozen=True)
class ValidatedRunbook:
    """A runbook that passed every check, ready to compile."""

    spec: Runbook
    file: str
    graph: StepGraph
    handler_graph: StepGraph
    types: dict[str, StepType]
    handler_types: dict[str, StepType]
    pipeline: PipelineInfo
    partitions: dict[str, PartitionRule] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # valid, but likely a surprise

    @property
    def name(self) -> str:
        """The runbook's name (its flow is named after it)."""
        return self.spec.runbook


def validate_file(path: Path | str, catalog: PipelineCatalog) -> ValidatedRunbook:
    """Validate one runbook file; raise RunbookValidationError listing all its problems."""
    path = Path(path)
    return validate_text(path.read_text(encoding="utf-8"), display_path(path), catalog)


def validate_text(text: str, file: str, catalog: PipelineCatalog) -> ValidatedRunbook:
    """Validate runbook YAML given as text (`file` names it in messages)."""
    with _collector_paused():
        return _validate(text, file, catalog)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a runbook is validated.

    Validation allocates hundreds of thousands of small objects that all stay alive until it
    ends (YAML nodes, positions, models); each automatic collection would walk all of them
    again, which made a 10,000-step file take seconds longer. Nothing here makes cycles that
    need collecting before the end; the collector runs again as usual afterwards.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _validate(text: str, file: str, catalog: PipelineCatalog) -> ValidatedRunbook:
    source, problems = load_mapping(
        text, file, "a runbook is a mapping (runbook:, pipeline:, steps: ...)"
    )
    if source is None:
        raise RunbookValidationError(problems)
    spec, model_problems = _build_model(source)
    problems += model_problems
    data = source.data
    types = step_types_of(data.get("steps"), "steps", source, problems)
    handler_types = step_types_of(data.get("on_failure"), "on_failure", source, problems)
    findings = _param_name_findings(data.get("params"))
    if spec is None:
        findings += _graph_findings_of_valid_steps(data.get("steps"))
        findings += _policy_of_partial(data, types, handler_types, catalog)
        problems += [source.problem(p, m, key=k) for p, m, k in findings]
        raise RunbookValidationError(problems)
    pipeline = catalog.get(spec.pipeline)
    if pipeline is None:
        findings.append((("pipeline",), unknown_pipeline(spec.pipeline, catalog), False))
    graph, graph_findings = build_graph(spec.steps)
    handler_graph, handler_findings = build_graph(spec.on_failure, "on_failure")
    findings += graph_findings + handler_findings
    findings += check_templates(spec, source, graph, types, handler_types, problems)
    findings += check_pipeline_references(spec, catalog)
    findings += _policy(spec, graph, types, handler_types, catalog)
    partitions, partition_findings = partition_params(spec, catalog)
    findings += partition_findings
    problems += [source.problem(p, m, key=k) for p, m, k in findings]
    if problems:
        raise RunbookValidationError(problems)
    assert pipeline is not None
    warnings = [source.problem(p, m, key=k) for p, m, k in runbook_advice(spec, types, catalog)]
    return ValidatedRunbook(
        spec, file, graph, handler_graph, types, handler_types, pipeline, partitions, warnings
    )


def _policy(
    spec: Runbook,
    graph: StepGraph,
    types: dict[str, StepType],
    handler_types: dict[str, StepType],
    catalog: PipelineCatalog,
) -> list[Finding]:
    """The safety rules: publication behind a gate, who may open a gate and how."""
    findings = check_policy(spec, graph, types, handler_types, catalog)
    findings += check_approvers(spec, types, getattr(catalog, "engineers", None))
    return findings + check_gate_inputs(spec, types)


def _policy_of_partial(
    data: dict[str, Any],
    types: dict[str, StepType],
    handler_types: dict[str, StepType],
    catalog: PipelineCatalog,
) -> list[Finding]:
    """The safety rules over what reads of a runbook with model errors (graph findings are
    the skeleton pass's, so only the policy's are kept)."""
    partial = partial_runbook(data)
    if partial is None:
        return []
    graph, _ = build_graph(partial.steps)
    return [
        f
        for f in _policy(partial, graph, types, handler_types, catalog)
        if "_unreadable_" not in f[1]
    ]


def _param_name_findings(params: Any) -> list[Finding]:
    """Param names are read as `params.<name>`, so they must be identifiers."""
    return [
        (
            ("params", name),
            f"param name '{name}' must be an identifier "
            "(letters, digits, _; not starting with a digit)",
            True,
        )
        for name in (params if isinstance(params, dict) else ())
        if not re.match(IDENTIFIER, str(name))
    ]


def _graph_findings_of_valid_steps(raw_steps: Any) -> list[Finding]:
    """The graph pass over ids and needs alone, for when some step is broken otherwise."""
    if not isinstance(raw_steps, list):
        return []
    skeletons: list[Step] = []
    for i, raw in enumerate(raw_steps):
        shape = {k: raw[k] for k in ("id", "needs") if isinstance(raw, dict) and k in raw}
        try:
            skeletons.append(Step.model_validate({**shape, "uses": "-"}))
        except ValidationError:
            skeletons.append(Step(id=f"_unreadable_{i}", uses="-"))
    _, findings = build_graph(skeletons)
    return [f for f in findings if "_unreadable_" not in f[1]]


def _build_model(source: YamlSource) -> tuple[Runbook | None, list[Problem]]:
    try:
        return Runbook.model_validate(source.data), []
    except ValidationError as exc:
        return None, pydantic_problems(source, exc, Runbook, explain=runbook_message)


__all__ = ["Step", "ValidatedRunbook", "validate_file", "validate_text"]
