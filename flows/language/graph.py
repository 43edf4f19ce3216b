"""The graph pass: unique ids, resolvable `needs`, no cycles, a deterministic order.

Kept apart from the models (as SQLMesh keeps its DAG) so a cycle is reported with its path
(`a -> b -> a`) and the order is the same on every machine: among steps that are ready,
the one written first in the file runs first.
"""

from __future__ import annotations

import difflib
import graphlib
import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from flows.language.models import Step

Finding = tuple[tuple[str | int, ...], str, bool]  # (path, message, point at key?)


@dataclass(frozen=True)
class StepGraph:
    """Steps by id with their needs, transitive ancestors and a topological order."""

    order: tuple[str, ...]
    needs: dict[str, tuple[str, ...]]
    ancestors: dict[str, frozenset[str]] = field(default_factory=dict)

    def descendants_of(self, step_id: str) -> set[str]:
        """Every step that (transitively) needs `step_id`."""
        return {s for s, ups in self.ancestors.items() if step_id in ups}


def build_graph(steps: Sequence[Step], section: str = "steps") -> tuple[StepGraph, list[Finding]]:
    """Check ids and needs, detect cycles, and order the steps; return the graph and findings."""
    findings: list[Finding] = []
    index: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.id in index:
            first = index[step.id]
            findings.append(
                (
                    (section, i, "id"),
                    f"duplicate step id '{step.id}' (also {section}[{first}]); "
                    "ids must be unique: rename one",
                    False,
                )
            )
        else:
            index[step.id] = i
    needs: dict[str, tuple[str, ...]] = {}
    for i, step in enumerate(steps):
        if index.get(step.id) != i:
            continue
        resolved = []
        for j, need in enumerate(step.needs):
            if need == step.id:
                findings.append(((section, i, "needs", j), f"step '{step.id}' needs itself", False))
            elif need not in index:
                close = difflib.get_close_matches(need, list(index), n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                findings.append(
                    (
                        (section, i, "needs", j),
                        f"unknown step '{need}' in needs; {hint}steps in this runbook: "
                        f"{', '.join(index)}",
                        False,
                    )
                )
            else:
                resolved.append(need)
        needs[step.id] = tuple(dict.fromkeys(resolved))
    cycle = _find_cycle(needs)
    if cycle:
        where = index[cycle[0]]
        findings.append(
            (
                (section, where, "needs"),
                f"cycle in needs: {' -> '.join(cycle)}; remove one of these needs",
                False,
            )
        )
        return StepGraph(order=tuple(index), needs=needs), findings
    order = _stable_order(needs, index)
    ancestors: dict[str, frozenset[str]] = {}
    for step_id in order:
        ups: set[str] = set(needs[step_id])
        for up in needs[step_id]:
            ups |= ancestors[up]
        ancestors[step_id] = frozenset(ups)
    return StepGraph(order=order, needs=needs, ancestors=ancestors), findings


def _find_cycle(needs: dict[str, tuple[str, ...]]) -> list[str] | None:
    sorter = graphlib.TopologicalSorter(needs)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        path = list(reversed(exc.args[1]))  # graphlib lists it against the arrows
        start = path.index(min(path[:-1]))
        ring = path[start:-1] + path[:start]
        return [*ring, ring[0]]
    return None


def _stable_order(needs: dict[str, tuple[str, ...]], index: dict[str, int]) -> tuple[str, ...]:
    waiting = {s: len(ups) for s, ups in needs.items()}
    dependents: dict[str, list[str]] = {s: [] for s in needs}
    for s, ups in needs.items():
        for up in ups:
            dependents[up].append(s)
    ready = [(index[s], s) for s, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, s = heapq.heappop(ready)
        order.append(s)
        for d in dependents[s]:
            waiting[d] -= 1
            if waiting[d] == 0:
                heapq.heappush(ready, (index[d], d))
    return tuple(order)
