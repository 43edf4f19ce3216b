"""The registry of step types a runbook's `uses:` can name.

Each step type declares a pydantic params model (checked against `with:` when a runbook is
loaded, so a wrong name or type fails before anything runs) and a result model (what later
steps can read as `steps.<id>.outputs`). Real families and the test suite's step types
register through the same decorator.

Loading the families is loading the catalog: `runbook validate`, `steps` and `schema` do it
without Prefect or a database library, so a family imports at module level only its models
and pure helpers, and the services its step uses (ledger, warehouse I/O) where the step runs
(`tests/cli/test_fast_commands.py` checks what those commands load).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from foundation.errors import RecoveryError, TerminalError

Role = Literal["task", "approval", "publish"]

BUILTIN_FAMILIES: tuple[str, ...] = (
    "recovery_tasks.logs",
    "recovery_tasks.sources",
    "recovery_tasks.schema",
    "recovery_tasks.data",
    "recovery_tasks.partitions",
    "recovery_tasks.transforms",
    "recovery_tasks.backfill",
    "recovery_tasks.checks",
    "recovery_tasks.reports",
    "recovery_tasks.approval",
    "recovery_tasks.annotations",
    "recovery_tasks.publish",
    "recovery_tasks.notify",
)


@dataclass(frozen=True)
class Pinned:
    """One part of what a publish step sends, pinned to the digest an approver saw.

    The validator (`flows.language.pinning`) holds an investor publication to it: `param` must
    read `{{ steps.<report>.outputs.<output> }}` of a report step upstream of the gate, and
    `toggle` (a boolean param that would leave this part out) must stay unset.
    """

    what: str  # what the approver saw, in messages: "report", "dashboard feed"
    param: str  # the publish step's param carrying the approved sha256
    output: str  # the report step's output that sha256 is read from
    toggle: str | None = None


@dataclass(frozen=True)
class StepType:
    """A kind of step: its name, its params and result models, and what it runs.

    `role` tells the compiler and the policy pass what the step is: an ordinary task, an
    approval gate (run by the flow itself, since Prefect pauses flows, not tasks) or a
    publish step (which must sit behind a gate in investor-reporting runbooks). `publishes`
    declares what a publish step sends, each part pinned to what the approver saw; the first
    part is the one the others accompany.
    """

    name: str
    params: type[BaseModel]
    result: type[BaseModel]
    run: Callable[..., Any]
    role: Role = "task"
    publishes: tuple[Pinned, ...] = ()

    @property
    def builtin(self) -> bool:
        """Shipped with the product (part of the published schema), not added by a test."""
        return self.run.__module__.startswith("recovery_tasks.")

    @property
    def summary(self) -> str:
        """First line of the implementation's docstring."""
        doc = (self.run.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


class UnknownStepTypeError(RecoveryError, TerminalError, KeyError):
    """`uses:` names no registered step type."""


_REGISTRY: dict[str, StepType] = {}
_loaded = False


def step_type(
    name: str,
    *,
    params: type[BaseModel],
    result: type[BaseModel],
    role: Role = "task",
    publishes: tuple[Pinned, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the step type `name` (e.g. `checks.source_counts`)."""
    if params.model_config.get("extra") != "forbid":
        raise TypeError(f"params model of step type {name!r} must set extra='forbid'")
    if publishes and role != "publish":
        raise TypeError(f"step type {name!r} declares what it publishes but is not a publish step")
    for part in publishes:
        for param in (part.param, part.toggle):
            if param is not None and param not in params.model_fields:
                raise TypeError(f"step type {name!r} pins {part.what} by {param!r}, not a param")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = StepType(
            name=name, params=params, result=result, run=fn, role=role, publishes=publishes
        )
        return fn

    return register


def load_builtin_families() -> None:
    """Import the built-in step families once.

    Plugin modules (more step types) are the composer's business: whoever reads the settings
    loads them (`foundation.plugins.load_plugins`) before validating or running a runbook.
    """
    global _loaded
    if _loaded:
        return
    for module in BUILTIN_FAMILIES:
        importlib.import_module(module)
    _loaded = True


def unknown_step_type_message(name: str) -> str:
    """Say that `name` is unknown, suggest the closest registered names, list the rest."""
    known = sorted(_REGISTRY)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown step type '{name}'; {hint}known step types: {', '.join(known)}"


def all_step_types() -> dict[str, StepType]:
    """Every registered step type by name (built-in families loaded)."""
    load_builtin_families()
    return dict(sorted(_REGISTRY.items()))
