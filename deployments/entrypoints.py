"""Import path of every runbook's flow, for Prefect deployments.

A runbook's flow is compiled at run time from YAML, so it has no `def` of its own to point a
deployment at. `deployments.entrypoints.<runbook_with_underscores>` compiles the runbook on
first access (PEP 562 module `__getattr__`); a worker or `serve` process loads the flow
through this path and so always runs the runbook as it is on disk, validated.
"""

from __future__ import annotations

from typing import Any


def attribute_name(runbook: str) -> str:
    """`aggregate-profit` -> `aggregate_profit`."""
    return runbook.replace("-", "_")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from flows.runbook_library import compile_named

    compiled = compile_named(name.replace("_", "-"))
    compiled.flow.__module__ = __name__
    compiled.flow.__name__ = name
    globals()[name] = compiled.flow
    return compiled.flow
