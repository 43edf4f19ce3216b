"""The reference of step types, read from the registry itself: params, outputs, role, docs.

What `runbook steps` prints and what docs/step-types.md holds (`runbook steps --markdown`
writes it; a test fails when the committed file differs), so the reference cannot drift
from the code: a step's params are its params model's fields (type, default, required,
description), its outputs the fields of its result model.
"""

from __future__ import annotations

import datetime
import inspect
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from recovery_tasks.registry import StepType, all_step_types

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "step-types.md"

ROLES = {
    "task": "task: runs as a Prefect task with the step's retries and timeout",
    "approval": (
        "approval gate: the run pauses here until authorized engineers approve (never "
        "skippable, never allowed to fail; a rejection or timeout stops the run)"
    ),
    "publish": (
        "publish: sends data outside; for an investor-reporting pipeline it must be downstream "
        "of an approval gate and pinned to the approved report (`approved_sha256`)"
    ),
}


@dataclass(frozen=True)
class FieldDoc:
    """One param or output: its name, type, default and what it is for."""

    name: str
    type: str
    required: bool
    default: str
    description: str


@dataclass(frozen=True)
class StepDoc:
    """One step type as an author needs to know it."""

    name: str
    role: str
    summary: str
    doc: str
    params: tuple[FieldDoc, ...]
    outputs: tuple[FieldDoc, ...]
    params_doc: str = ""
    outputs_doc: str = ""


def step_docs(builtin_only: bool = True) -> list[StepDoc]:
    """Every registered step type (the shipped ones by default), by name."""
    return [step_doc(t) for t in all_step_types().values() if t.builtin or not builtin_only]


def step_doc(step_type: StepType) -> StepDoc:
    """The reference entry of one step type."""
    return StepDoc(
        name=step_type.name,
        role=step_type.role,
        summary=step_type.summary,
        doc=inspect.cleandoc(step_type.run.__doc__ or ""),
        params=_fields(step_type.params),
        outputs=_fields(step_type.result),
        params_doc=_own_doc(step_type.params),
        outputs_doc=_own_doc(step_type.result),
    )


def _own_doc(model: type[BaseModel]) -> str:
    """The model's own docstring (not one inherited from pydantic or a shared base)."""
    doc = model.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else ""


def _fields(model: type[BaseModel]) -> tuple[FieldDoc, ...]:
    out = []
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            default = repr(info.default_factory())  # type: ignore[call-arg]
        elif info.default is PydanticUndefined:
            default = ""
        else:
            default = "null" if info.default is None else _yaml_literal(info.default)
        out.append(
            FieldDoc(
                name=info.alias or name,
                type=type_name(info.annotation) + _bounds(info.metadata),
                required=info.is_required(),
                default=default,
                description=info.description or "",
            )
        )
    return tuple(out)


def _bounds(metadata: list[Any]) -> str:
    """`, at least 1, at most 4` from the field's constraints (annotated_types Ge/Le/...)."""
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    found = [
        f"{words[attr]} {getattr(m, attr)}"
        for m in metadata
        for attr in words
        if getattr(m, attr, None) is not None
    ]
    return f" ({', '.join(found)})" if found else ""


def _yaml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.timedelta):
        from foundation.durations import format_duration

        return format_duration(value)
    return str(value)


_SIMPLE = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    datetime.date: "date (YYYY-MM-DD)",
    datetime.datetime: "datetime",
    datetime.timedelta: "duration (e.g. 30m, 2h)",
    Any: "any",
}


def type_name(annotation: Any) -> str:
    """An annotation in an author's words: `list of string`, `one of: on_call, owners`."""
    if annotation in _SIMPLE:
        return _SIMPLE[annotation]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin is Literal:
        return "one of: " + ", ".join(str(a) for a in args)
    if origin in (Union, types.UnionType):
        named = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(named) + (" or null" if type(None) in args else "")
    if origin is list:
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}" if args else "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"{annotation.__name__} ({', '.join(annotation.model_fields)})"
    return getattr(annotation, "__name__", str(annotation))
