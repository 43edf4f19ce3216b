"""Import path of every runbook's flow, for Prefect deployments.

A runbook's flow is compiled at run time from YAML, so it has no `def` of its own to point a
deployment at. `deployments.entrypoints.<runbook_with_underscores>` compiles the runbook on
first access (PEP 562 module `__getattr__`) from the runbook set the application serves
(`runbook_set`); a worker or `serve` process loads the flow through this path and so always
runs the runbook as it is on disk, validated, with the same plugins and step types as the
command that deployed it, and imports nothing of the standing flows it does not run.

What it imports is what a run uses (the ledger and warehouse through SQLAlchemy, the
language to validate, the gate, the door); `bench/bench_run_start.py` measures it against a
bare Prefect flow's process start, which is most of a run's start.
"""

from __future__ import annotations

from typing import Any

from deployments.runbook_set import find_runbook, valid_runbooks
from flows.language.validator import ValidatedRunbook
from flows.runtime.compiler import compile_runbook


def attribute_name(runbook: str) -> str:
    """`aggregate-profit` -> `aggregate_profit`."""
    return runbook.replace("-", "_")


def entrypoint_flow(runbook: ValidatedRunbook) -> Any:
    """The runbook's compiled flow, importable as `deployments.entrypoints.<name>`."""
    name = attribute_name(runbook.name)
    recovery_flow = compile_runbook(runbook).flow
    recovery_flow.__module__ = __name__
    vars(recovery_flow)["__name__"] = name  # Flow declares no `__name__`; importers read it
    globals()[name] = recovery_flow
    return recovery_flow


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return entrypoint_flow(find_runbook(valid_runbooks(), name.replace("_", "-")))
