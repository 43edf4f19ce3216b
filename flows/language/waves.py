"""Waves around approval gates: Prefect pauses a flow, not a task.

A gate can only pause once nothing else is running, and the approver should see all the
evidence. So the graph is cut into waves: wave k holds the ordinary steps that lie behind k
gates; its gates run (one at a time) after every step of the wave has finished. A step runs
after a gate only if it needs that gate, directly or through other steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flows.language.graph import StepGraph
from recovery_tasks.registry import StepType


@dataclass(frozen=True)
class Wave:
    """Steps that run concurrently (each when its needs are done), then gates in order."""

    steps: tuple[str, ...]
    gates: tuple[str, ...]


def plan_waves(graph: StepGraph, gates: set[str]) -> list[Wave]:
    """Cut the ordered graph into waves separated by the approval gates."""
    level: dict[str, int] = {}
    for step in graph.order:
        level[step] = max(
            (level[up] + (1 if up in gates else 0) for up in graph.needs[step]), default=0
        )
    count = max(level.values(), default=-1) + 1
    return [
        Wave(
            steps=tuple(s for s in graph.order if level[s] == k and s not in gates),
            gates=tuple(s for s in graph.order if level[s] == k and s in gates),
        )
        for k in range(count)
    ]


def runbook_waves(graph: StepGraph, types: Mapping[str, StepType]) -> tuple[Wave, ...]:
    """The waves of a runbook's steps, its approval steps as the gates."""
    gates = {step for step, step_type in types.items() if step_type.role == "approval"}
    return tuple(plan_waves(graph, gates))
