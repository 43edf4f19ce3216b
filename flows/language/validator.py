"""All validation passes over one runbook file, with every problem reported together.

Order: YAML (positions, duplicate keys) -> models (pydantic, strict) -> step types and their
`with:` params -> graph (ids, needs, cycles) -> templates (names, upstream reads) -> policy.
Later passes run on whatever the earlier ones could make sense of, so one typo does not hide
the next. Nothing is compiled, deployed or run from a file with any problem.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flows.language.catalog import PipelineCatalog, PipelineInfo
from flows.language.errors import Problem, RunbookValidationError, display_path
from flows.language.graph import Finding, StepGraph, build_graph
from flows.language.models import IDENTIFIER, Runbook, Step
from flows.language.policy import check_approver_names, check_policy
from flows.language.template_checks import check_templates
from flows.language.templates import is_template
from foundation.pydantic_errors import message_of, pydantic_problems
from foundation.yaml_source import Path_, YamlSource, load_mapping
from recovery_tasks.registry import StepType, all_step_types, unknown_step_type_message


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
    source, problems = load_mapping(
        text, file, "a runbook is a mapping (runbook:, pipeline:, steps: ...)"
    )
    if source is None:
        raise RunbookValidationError(problems)
    spec, model_problems = _build_model(source)
    problems += model_problems
    findings: list[Finding] = []
    data = source.data
    types = _step_types(data.get("steps"), "steps", source, problems)
    handler_types = _step_types(data.get("on_failure"), "on_failure", source, problems)
    for name in (data.get("params") or {}) if isinstance(data.get("params"), dict) else ():
        if not _is_identifier(name):
            findings.append(
                (
                    ("params", name),
                    f"param name '{name}' must be an identifier "
                    "(letters, digits, _; not starting with a digit)",
                    True,
                )
            )
    pipeline = catalog.get(spec.pipeline) if spec else None
    if spec and pipeline is None:
        close = difflib.get_close_matches(spec.pipeline, list(catalog), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        findings.append(
            (
                ("pipeline",),
                f"unknown pipeline '{spec.pipeline}'; {hint}pipelines "
                f"in governance.yaml: {', '.join(sorted(catalog))}",
                False,
            )
        )
    if spec is None:
        findings += _graph_findings_of_valid_steps(data.get("steps"))
        problems += [source.problem(p, m, key=k) for p, m, k in findings]
        raise RunbookValidationError(problems)
    graph, graph_findings = build_graph(spec.steps)
    handler_graph, handler_findings = build_graph(spec.on_failure, "on_failure")
    findings += graph_findings + handler_findings
    findings += check_templates(spec, source, graph, types, handler_types, problems)
    if pipeline is not None:
        findings += check_policy(spec, graph, types, handler_types, pipeline.investor_reporting)
    engineers = getattr(catalog, "engineers", None)
    if engineers is not None:
        findings += check_approver_names(spec, types, engineers)
    problems += [source.problem(p, m, key=k) for p, m, k in findings]
    if problems:
        raise RunbookValidationError(problems)
    assert pipeline is not None
    return ValidatedRunbook(spec, file, graph, handler_graph, types, handler_types, pipeline)


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


def _is_identifier(name: str) -> bool:
    return bool(re.match(IDENTIFIER, name))


def _build_model(source: YamlSource) -> tuple[Runbook | None, list[Problem]]:
    try:
        return Runbook.model_validate(source.data), []
    except ValidationError as exc:
        return None, pydantic_problems(source, exc, Runbook)


def _step_types(
    raw_steps: Any, section: str, source: YamlSource, problems: list[Problem]
) -> dict[str, StepType]:
    """Resolve each step's `uses` and check its `with:` against the type's params model."""
    registry = all_step_types()
    found: dict[str, StepType] = {}
    if not isinstance(raw_steps, list):
        return found
    for i, raw in enumerate(raw_steps):
        if not isinstance(raw, dict) or not isinstance(raw.get("uses"), str):
            continue
        step_type = registry.get(raw["uses"])
        if step_type is None:
            problems.append(
                source.problem((section, i, "uses"), unknown_step_type_message(raw["uses"]))
            )
            continue
        if isinstance(raw.get("id"), str):
            found.setdefault(raw["id"], step_type)
        with_ = raw.get("with", {})
        if isinstance(with_, dict):
            problems += check_with(source, (section, i, "with"), with_, step_type)
    return found


def check_with(
    source: YamlSource, path: Path_, with_: dict[str, Any], step_type: StepType
) -> list[Problem]:
    """Check `with:` against the params model; templated values are checked for name only."""
    fields = {f.alias or n for n, f in step_type.params.model_fields.items()}
    templated = {k for k, v in with_.items() if _has_template(v)}
    problems = []
    for key in sorted(templated - fields):
        close = difflib.get_close_matches(key, sorted(fields), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            source.problem(
                (*path, key),
                f"unknown parameter '{key}' for "
                f"{step_type.name}; {hint}its parameters: "
                f"{', '.join(sorted(fields)) or '(none)'}",
                key=True,
            )
        )
    static = {k: v for k, v in with_.items() if k not in templated}
    try:
        step_type.params.model_validate(static)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] == "missing" and loc and loc[0] in templated:
                continue
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(loc[-1]), sorted(fields), n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                problems.append(
                    source.problem(
                        (*path, *loc),
                        f"unknown parameter '{loc[-1]}' for {step_type.name}; "
                        f"{hint}its parameters: {', '.join(sorted(fields)) or '(none)'}",
                        key=True,
                    )
                )
            elif err["type"] == "missing":
                problems.append(
                    source.problem(
                        path if with_ else path[:-1],
                        f"{step_type.name} needs parameter '{loc[-1]}' in `with:`",
                    )
                )
            else:
                problems.append(source.problem((*path, *loc), message_of(err)))
    return problems


def _has_template(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return is_template(value)


__all__ = ["Step", "ValidatedRunbook", "validate_file", "validate_text"]
