"""Params resolved when a run starts: from the overrides, the event, or their defaults.

This is the first thing a recovery run does (and what `runbook plan` shows), so a value
that cannot work stops the run here, before any step, in words the author can act on:
which param, what it wants, and for a partition key the form its pipeline's grain takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from flows.language.messages import runbook_message
from flows.language.models import Param
from flows.language.partitions import PartitionRule, check_partition
from flows.language.templates import TemplateRenderError, render_value

_PARAM_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict[str, Any],
    "array": list[Any],
}
_ADAPTERS = {name: TypeAdapter(kind) for name, kind in _PARAM_TYPES.items()}


def resolve_params(
    declared: dict[str, Param],
    overrides: dict[str, Any],
    namespace: dict[str, Any],
    partitions: Mapping[str, PartitionRule] | None = None,
) -> dict[str, Any]:
    """Each declared param from the overrides, else its `from:` template, else its default.

    A param that is a partition key is checked against its pipeline's grain. Raises
    ValueError naming the param and what is wrong.
    """
    unknown = set(overrides) - set(declared)
    if unknown:
        raise ValueError(
            f"unknown params given: {', '.join(sorted(unknown))}; "
            f"this runbook's params: {', '.join(declared) or 'none'}"
        )
    values: dict[str, Any] = {}
    for name, param in declared.items():
        value = _raw_value(name, param, overrides, namespace)
        try:
            values[name] = _ADAPTERS[param.type].validate_python(value)
        except ValidationError as exc:
            raise ValueError(f"param '{name}' {runbook_message(exc.errors()[0])}") from None
        if partitions and name in partitions:
            check_partition(name, values[name], partitions[name])
    return values


def _raw_value(
    name: str, param: Param, overrides: dict[str, Any], namespace: dict[str, Any]
) -> Any:
    if name in overrides:
        value = overrides[name]
    elif param.from_ is not None:
        try:
            value = render_value(param.from_, namespace)
        except TemplateRenderError as exc:
            value = None
            if param.default is None:
                raise ValueError(
                    f"param '{name}': {exc}; pass it explicitly or give it a default"
                ) from None
    else:
        value = None
    if value is None or value == "":
        value = param.default
    if value is None:
        raise ValueError(
            f"param '{name}' has no value: the event does not provide it and it has no default"
        )
    return value
