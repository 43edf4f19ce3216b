"""Which step's rows are in the final partition: the evidence that explains the numbers.

A step that changes data says so through its result model's `partition_effect()`: it wrote
(or removed) rows of the partition itself, or it added rows to the source the transform
reads. Walking the run's completed steps in order, the last partition writer produced the
final numbers; earlier writers were replaced by it, and source changes before it were read by
it. A runbook that wrote nothing (a republish) says the report comes from the partition as
the pipeline's last run left it.
"""

from __future__ import annotations

from recovery_tasks.context import StepContext
from recovery_tasks.registry import all_step_types


def effects(ctx: StepContext) -> list[tuple[str, str, str]]:
    """(step id, where, what) for each completed step of the run that changed data."""
    types = all_step_types()
    found = []
    for step_id, outcome in ctx.steps.items():
        step_type = types.get(ctx.uses.get(step_id, ""))
        if outcome.state != "completed" or step_type is None or not outcome.outputs:
            continue
        if not hasattr(step_type.result, "partition_effect"):
            continue
        effect = step_type.result.model_validate(outcome.outputs).partition_effect()
        if effect is not None:
            found.append((step_id, *effect))
    return found


def lineage(ctx: StepContext, last_write: str | None) -> list[str]:
    """Lines saying what produced the partition the report is built from."""
    found = effects(ctx)
    writers = [step for step, where, _ in found if where == "partition"]
    final = writers[-1] if writers else None
    lines = []
    for i, (step, where, what) in enumerate(found):
        later = [s for s, w, _ in found[i + 1 :] if w == "partition"]
        if step == final:
            lines.append(f"`{step}` {what}: its rows are the final partition")
        elif where == "partition":
            lines.append(f"`{step}` {what}; replaced by `{final}`")
        elif later:
            lines.append(f"`{step}` {what}; `{later[0]}` read them")
        else:
            lines.append(f"`{step}` {what}; no later step re-computed the partition from them")
    if final is None:
        lines.append(
            "no step of this run wrote the partition: the report reads it as the pipeline's "
            f"last run left it ({last_write or 'written before this run'})"
        )
    return lines
