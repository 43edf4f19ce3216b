"""A step's `uses:` resolved to its step type, and its `with:` checked against the type's params.

Static values are validated by the params model now (type, range, required); a templated
value is checked for its name only, its type when it renders at run time.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from flows.language.errors import Problem
from flows.language.messages import runbook_message
from flows.language.templates import is_template
from foundation.yaml_source import Path_, YamlSource
from recovery_tasks.registry import StepType, all_step_types, unknown_step_type_message


def step_types_of(
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
    fields = _field_names(step_type.params)
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
                problems.append(source.problem((*path, *loc), runbook_message(err)))
    return problems


@lru_cache(maxsize=256)
def _field_names(params: type[BaseModel]) -> frozenset[str]:
    return frozenset(f.alias or n for n, f in params.model_fields.items())


def _has_template(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return is_template(value)
