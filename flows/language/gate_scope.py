"""A gate belongs to what it publishes: its approvers are those of the pipeline published.

The on-call engineers and owners a gate asks are those of the pipeline its approval step
names (`with: {pipeline: ...}`), else of the runbook's own. A publication to another
pipeline (a profit runbook publishing aggregate_engagement) is therefore passed only by a
gate that names that pipeline explicitly; otherwise the wrong people would approve it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.language.graph import Finding
from flows.language.models import Runbook, Step
from flows.language.pipelines import other_partition, step_pipeline


def governing_gates(target: str | None, gates: list[str], spec: Runbook) -> list[str]:
    """The gates among `gates` whose approvers are `target`'s (all of them when the target is
    chosen at run time: the pinning rules still hold it to what an approver saw)."""
    if target is None:
        return gates
    steps = {s.id: s for s in spec.steps}
    return [g for g in gates if step_pipeline(steps[g], spec.pipeline) == target]


def wrong_gate(i: int, step: Step, target: str, gates: list[str], spec: Runbook) -> Finding:
    """The finding for an investor publication whose gates all belong to another pipeline."""
    steps = {s.id: s for s in spec.steps}
    gate = gates[0]
    owner = step_pipeline(steps[gate], spec.pipeline) or "a pipeline chosen at run time"
    return (
        ("steps", i, "with", "pipeline") if "pipeline" in step.with_ else ("steps", i, "uses"),
        f"publish step '{step.id}' publishes pipeline '{target}' but its gate '{gate}' asks "
        f"the on-call engineers and owners of '{owner}': name the pipeline at the gate "
        f"(`pipeline: {target}` in the `with:` of '{gate}') so that {target}'s own approvers "
        "decide what is published",
        False,
    )


def partitions_after(
    gate: str, spec: Runbook, namespace: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(pipeline, partition) of the other pipelines the steps after `gate` work on, rendered
    in `namespace`: what the gate's approval covers, whose incident its answers belong to."""
    after = {gate}
    grew = True
    while grew:
        grew = False
        for step in spec.steps:
            if step.id not in after and after.intersection(step.needs):
                after.add(step.id)
                grew = True
    found = [other_partition(s, spec.pipeline, namespace) for s in spec.steps if s.id in after]
    return list(dict.fromkeys(f for f in found if f is not None))
