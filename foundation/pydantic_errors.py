"""Pydantic's validation errors as positioned problems, in words that say what to do.

Shared by runbooks and the governance file: an unknown key gets a "did you mean" and the keys
allowed where it stands, a missing one points at its parent, and every other error is anchored
at the YAML it came from (pydantic's own loc parts, such as union tags, are dropped).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from foundation.problems import Problem
from foundation.yaml_source import Path_, YamlSource


def pydantic_problems(
    source: YamlSource,
    exc: ValidationError,
    model: type[BaseModel],
    *,
    noun: Literal["field", "key"] = "field",
    mappings_at_key: bool = False,
    explain: Callable[[Any], str] | None = None,
) -> list[Problem]:
    """One problem per pydantic error of validating `source.data` against `model`.

    `noun` names what a mapping holds ("unknown field 'x'"); with `mappings_at_key` a problem
    about a whole mapping points at its key (`rotation:`) rather than at its first entry;
    `explain` words the other errors (default: `message_of`).
    """
    explain = explain or message_of
    key = None if mappings_at_key else False
    problems = []
    for err in exc.errors():
        loc: Path_ = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _fields_at(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            message = f"unknown {noun} '{loc[-1]}'; {hint}allowed here: {', '.join(allowed)}"
            problems.append(source.problem(loc, message, key=True))
        elif kind == "missing":
            problems.append(
                source.problem(loc[:-1], f"missing required {noun} '{loc[-1]}'", key=key)
            )
        else:
            problems.append(source.problem(_in_yaml(loc, source.data), explain(err), key=key))
    return problems


def message_of(err: Any) -> str:
    """Pydantic's message; our own validators' messages already quote the value."""
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] in ("value_error", "assertion_error"):
        return msg
    given = err.get("input")
    return f"{msg} (got {given!r})" if isinstance(given, str | int | float | bool) else msg


def _in_yaml(loc: Path_, data: Any) -> Path_:
    """The parts of `loc` the YAML has, without pydantic's union tags and `[key]` suffixes."""
    path: list[str | int] = []
    for part in loc:
        if _holds(data, part):
            path.append(part)
            data = data[part]
        elif not (isinstance(part, str) and ("[" in part or part == "function-after")):
            path.append(part)
            data = None
    return tuple(path)


def _holds(data: Any, part: str | int) -> bool:
    """Whether the YAML value `data` has a key or index `part`."""
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _fields_at(model: type[BaseModel], loc: Path_) -> list[str]:
    """Names (aliases where set) of the keys allowed at `loc` inside `model`."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            current = _item_model(current)
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            current = _model_in(field.annotation) if field else None
        else:  # a dict value: the key named an entry, the model stays
            current = _item_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    """The model type inside `X`, `X | None`, `list[X]` or `dict[str, X]` (else the annotation)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, dict):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None and found is not type(None):
            return found
    return annotation


def _item_model(container: Any) -> Any:
    args = get_args(container)
    return _model_in(args[-1]) if args else None
