"""The static template pass: every name a template reads must exist where it is read.

A step may read `steps.<id>` only for steps upstream of it (they have finished by then),
`params.<name>` only for declared params, and `steps.<id>.outputs.<field>` only for fields
of that step type's result model. Param sources (`from:`) are rendered before any step runs,
so they may read only `event`, `incident` and `runbook`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flows.language.graph import Finding, StepGraph
from flows.language.models import Runbook, Step
from flows.language.templates import (
    NAMESPACES,
    STEP_FIELDS,
    TemplateInfo,
    inspect_template,
    is_template,
)
from foundation.problems import Position, Problem
from foundation.yaml_source import Path_, YamlSource, format_path
from recovery_tasks.registry import StepType

JINJA_GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"})
PARAM_SOURCE_NAMESPACES = ("event", "incident", "runbook")


def check_templates(
    spec: Runbook,
    source: YamlSource,
    graph: StepGraph,
    types: dict[str, StepType],
    handler_types: dict[str, StepType],
    problems: list[Problem],
) -> list[Finding]:
    """Findings for templates that read unknown or not-yet-available names.

    Syntax errors are appended to `problems` directly: they point at a line inside the value.
    """
    findings: list[Finding] = []
    declared = set(spec.params)
    for name, param in spec.params.items():
        if param.from_ is not None:
            path = ("params", name, "from")
            findings += _check(
                param.from_, path, source, problems, PARAM_SOURCE_NAMESPACES, declared, {}, None
            )
    for i, step in enumerate(spec.steps):
        visible = {s: types.get(s) for s in graph.ancestors.get(step.id, ())}
        findings += _check_step(step, ("steps", i), source, problems, declared, visible)
    for i, handler in enumerate(spec.on_failure):
        visible = {s.id: types.get(s.id) for s in spec.steps}
        visible |= {s.id: handler_types.get(s.id) for s in spec.on_failure[:i]}
        findings += _check_step(handler, ("on_failure", i), source, problems, declared, visible)
    return findings


def _check_step(
    step: Step,
    path: Path_,
    source: YamlSource,
    problems: list[Problem],
    declared: set[str],
    visible: dict[str, StepType | None],
) -> list[Finding]:
    findings: list[Finding] = []
    for value_path, text in _templates_in(step.with_, (*path, "with")):
        findings += _check(
            text, value_path, source, problems, NAMESPACES, declared, visible, step.id
        )
    if step.when is not None:
        findings += _check(
            step.when,
            (*path, "when"),
            source,
            problems,
            NAMESPACES,
            declared,
            visible,
            step.id,
            condition=True,
        )
    return findings


def _templates_in(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _templates_in(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _templates_in(child, (*path, i))
    elif is_template(value):
        yield path, value


def _check(
    text: str,
    path: Path_,
    source: YamlSource,
    problems: list[Problem],
    allowed: tuple[str, ...],
    declared: set[str],
    visible: dict[str, StepType | None],
    reader: str | None,
    *,
    condition: bool = False,
) -> list[Finding]:
    info = inspect_template(text, condition=condition)
    if info.syntax_error is not None:
        problems.append(_syntax_problem(source, path, info))
        return []
    findings: list[Finding] = []
    for name in sorted(info.names - JINJA_GLOBALS):
        if name not in allowed:
            findings.append(
                (
                    path,
                    f"template reads unknown name '{name}'; here templates can "
                    f"read: {', '.join(allowed)}",
                    False,
                )
            )
    for ref in info.references:
        if ref.root == "params" and ref.chain and ref.chain[0] not in declared:
            known = ", ".join(sorted(declared)) or "none declared"
            findings.append(
                (
                    path,
                    f"template reads undeclared param '{ref.chain[0]}'; declare "
                    f"it under `params:` (declared: {known})",
                    False,
                )
            )
        elif ref.root == "steps" and ref.chain and "steps" in allowed:
            findings += _check_step_read(ref.chain, path, visible, reader)
    return _unique(findings)


def _check_step_read(
    chain: tuple[str, ...], path: Path_, visible: dict[str, StepType | None], reader: str | None
) -> list[Finding]:
    target = chain[0]
    if target not in visible:
        upstream = ", ".join(sorted(visible)) or "none"
        return [
            (
                path,
                f"step '{reader}' reads steps.{target}, which is not upstream of it; "
                f"add '{target}' to its needs (upstream now: {upstream})",
                False,
            )
        ]
    if len(chain) < 2:
        return []
    if chain[1] not in STEP_FIELDS:
        return [
            (
                path,
                f"steps.{target}.{chain[1]} does not exist; a step offers {', '.join(STEP_FIELDS)}",
                False,
            )
        ]
    step_type = visible[target]
    if chain[1] == "outputs" and len(chain) > 2 and step_type is not None:
        fields = step_type.result.model_fields
        if fields and chain[2] not in fields:
            return [
                (
                    path,
                    f"steps.{target}.outputs has no field '{chain[2]}'; "
                    f"{step_type.name} returns: {', '.join(fields)}",
                    False,
                )
            ]
    return []


def _syntax_problem(source: YamlSource, path: Path_, info: TemplateInfo) -> Problem:
    assert info.syntax_error is not None
    message, line_in_template = info.syntax_error
    start = source.position(path)
    block = source.scalar_styles.get(path) in ("|", ">")
    line = start.line + line_in_template - 1 + (1 if block else 0)
    column = start.column if line == start.line else 1
    if block:
        column = len(source.line(line)) - len(source.line(line).lstrip()) + 1
    return Problem(
        source.file,
        Position(line, column),
        format_path(path),
        f"template syntax error: {message}",
        source.line(line).rstrip(),
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
