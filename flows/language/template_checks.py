"""The static template pass: every name a template reads must exist where it is read.

A step may read `steps.<id>` only for steps upstream of it (they have finished by then),
`params.<name>` only for declared params, and `steps.<id>.outputs.<field>` only for fields
of that step type's result model. Param sources (`from:`) are rendered before any step runs,
so they may read only `event`, `incident` and `runbook`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator
from functools import partial
from typing import Any

from flows.language.graph import Finding, StepGraph
from flows.language.models import Runbook, Step
from flows.language.template_reads import STATEMENT_NAMES, TemplateInfo, inspect_template
from flows.language.templates import (
    ALLOWED_FILTERS,
    ALLOWED_TESTS,
    NAMESPACES,
    STEP_FIELDS,
    is_template,
)
from foundation.problems import Position, Problem
from foundation.yaml_source import Path_, YamlSource, format_path
from recovery_tasks.registry import StepType

JINJA_GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"})
PARAM_SOURCE_NAMESPACES = ("event", "incident", "runbook")


class _Scope:
    """Which steps a template may read (`steps.<id>`), and why not when it may not."""

    def __init__(
        self,
        reader: str | None,
        types: dict[str, StepType],
        is_visible: Callable[[str], bool],
        *,
        ids: Collection[str] = (),
        upstream: Callable[[], Collection[str]] = tuple,
        is_downstream: Callable[[str], bool] = lambda _: False,
        known: bool = True,
    ) -> None:
        self.reader = reader
        self.types = types
        self.is_visible = is_visible
        self.ids = ids
        self.upstream = upstream  # asked only to word an error
        self.is_downstream = is_downstream
        self.known = known  # False when the graph has a cycle: reads are not judged


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
    no_steps = _Scope(None, {}, lambda _: False)
    for name, param in spec.params.items():
        if param.from_ is not None:
            path = ("params", name, "from")
            findings += _check(
                param.from_, path, source, problems, PARAM_SOURCE_NAMESPACES, declared, no_steps
            )
    for i, step in enumerate(spec.steps):
        scope = _Scope(
            step.id,
            types,
            partial(graph.is_upstream, of=step.id),
            ids=graph.needs,
            upstream=partial(graph.ancestors_of, step.id),
            is_downstream=partial(graph.is_upstream, step.id),
            known=not graph.cyclic,
        )
        findings += _check_step(step, ("steps", i), source, problems, declared, scope)
    main_ids = set(graph.needs)
    for i, handler in enumerate(spec.on_failure):
        earlier = {h.id for h in spec.on_failure[:i]}
        visible = main_ids | earlier
        scope = _Scope(
            handler.id,
            {**types, **{h: t for h, t in handler_types.items() if h in earlier}},
            visible.__contains__,
            ids=visible | {h.id for h in spec.on_failure},
            upstream=visible.copy,
        )
        findings += _check_step(handler, ("on_failure", i), source, problems, declared, scope)
    return findings


def _check_step(
    step: Step,
    path: Path_,
    source: YamlSource,
    problems: list[Problem],
    declared: set[str],
    scope: _Scope,
) -> list[Finding]:
    findings: list[Finding] = []
    for value_path, text in _templates_in(step.with_, (*path, "with")):
        findings += _check(text, value_path, source, problems, NAMESPACES, declared, scope)
    if step.when is not None:
        findings += _check(
            step.when,
            (*path, "when"),
            source,
            problems,
            NAMESPACES,
            declared,
            scope,
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
    scope: _Scope,
    *,
    condition: bool = False,
) -> list[Finding]:
    info = inspect_template(text, condition=condition)
    if info.syntax_error is not None:
        problems.append(_syntax_problem(source, path, info))
        return []
    findings = [(path, message, False) for message in _refusals(info, allowed)]
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
        elif ref.root == "steps" and ref.chain and "steps" in allowed and scope.known:
            findings += _check_step_read(ref.chain, path, scope)
    return _unique(findings)


def _refusals(info: TemplateInfo, allowed: tuple[str, ...]) -> list[str]:
    """What the template uses beyond the language: names, filters, tests, calls, tags."""
    out = []
    for name in sorted(info.names):
        if name in JINJA_GLOBALS:
            out.append(
                f"template uses Jinja's '{name}', which runbook templates do not offer; "
                f"here templates can read: {', '.join(allowed)}"
            )
        elif name not in allowed:
            out.append(
                f"template reads unknown name '{name}'; here templates can "
                f"read: {', '.join(allowed)}"
            )
    for attribute in info.private:
        out.append(
            f"template reads '{attribute}'; runbook templates read data only, never "
            "attributes starting with _"
        )
    refused_names = info.names - set(allowed)
    for called in info.calls:
        if called in refused_names:
            continue  # calling a name that is not offered: said once, above
        out.append(
            f"template calls '{called}(...)'; runbook templates cannot call functions or "
            f"methods: use a filter instead ({', '.join(ALLOWED_FILTERS)})"
        )
    for name in sorted(info.filters - set(ALLOWED_FILTERS)):
        out.append(f"unknown filter '{name}'; filters allowed: {', '.join(ALLOWED_FILTERS)}")
    for name in sorted(info.tests - set(ALLOWED_TESTS)):
        out.append(f"unknown test 'is {name}'; tests allowed: {', '.join(ALLOWED_TESTS)}")
    for tag in sorted(info.statements):
        out.append(f"template uses {{% {tag} %}}; runbook templates offer only {STATEMENT_NAMES}")
    return out


def _check_step_read(chain: tuple[str, ...], path: Path_, scope: _Scope) -> list[Finding]:
    target, reader = chain[0], scope.reader
    if not scope.is_visible(target):
        if target not in scope.ids:
            close = difflib.get_close_matches(target, list(scope.ids), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            message = f"step '{reader}' reads steps.{target}, but there is no step '{target}'{hint}"
        elif scope.is_downstream(target):
            message = (
                f"step '{reader}' reads steps.{target}, which runs after it ('{target}' needs "
                f"'{reader}'); adding '{target}' to its needs would create a cycle: read it "
                f"in a step that needs '{target}' instead"
            )
        else:
            message = (
                f"step '{reader}' reads steps.{target}, which is not upstream of it; "
                f"add '{target}' to its needs (upstream now: {_listing(scope.upstream())})"
            )
        return [(path, message, False)]
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
    step_type = scope.types.get(target)
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


def _listing(ids: Collection[str], limit: int = 10) -> str:
    names = sorted(ids)
    if not names:
        return "none"
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


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
