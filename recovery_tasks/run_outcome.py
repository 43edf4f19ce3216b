"""How a successful run ends, in the words the audit story and `runbook run` show.

A run that went through its steps ends `recovered`. A step's result model may say otherwise
through `run_outcome()`: `partitions.health` says `healthy — nothing to recover` when the
event named a partition that was already complete, naming the pipeline's partitions that are
not, so no story calls a healthy partition recovered.
"""

from __future__ import annotations

from collections.abc import Mapping

from recovery_tasks.context import StepOutcome
from recovery_tasks.registry import all_step_types

RECOVERED = "recovered"


def run_outcome(outcomes: Mapping[str, StepOutcome], uses: Mapping[str, str]) -> str:
    """The first outcome a completed step's result states, else `recovered`."""
    types = all_step_types()
    for step_id, outcome in outcomes.items():
        step_type = types.get(uses.get(step_id, ""))
        if outcome.state != "completed" or step_type is None or not outcome.outputs:
            continue
        if not hasattr(step_type.result, "run_outcome"):
            continue
        said = step_type.result.model_validate(outcome.outputs).run_outcome()
        if said:
            return str(said)
    return RECOVERED
