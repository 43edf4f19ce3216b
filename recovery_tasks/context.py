"""What a step sees when it runs: the runbook, the event, the params and upstream results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from recovery_tasks.services import RunServices

StepState = Literal["completed", "failed", "skipped", "upstream_failed", "rejected"]


@dataclass
class StepOutcome:
    """How one step ended and what it produced (its result model, dumped to JSON types)."""

    state: StepState
    outputs: dict[str, Any] | None = None
    message: str | None = None
    started: datetime | None = None
    ended: datetime | None = None

    def as_template_value(self) -> dict[str, Any]:
        """The `steps.<id>` namespace entry templates read."""
        return {"state": self.state, "outputs": self.outputs or {}, "message": self.message}


@dataclass
class StepContext:
    """Everything a step implementation may need beyond its own params."""

    runbook: str
    pipeline: str
    step_id: str
    event: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    incident: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, StepOutcome] = field(default_factory=dict)
    flow_run_id: str | None = None
    triggered_by: str | None = None
    timeout: timedelta | None = None
    uses: dict[str, str] = field(default_factory=dict)  # step id -> step type, for evidence
    # a gate's: (pipeline, partition) of other pipelines the steps after it work on
    publishes: list[tuple[str, str]] = field(default_factory=list)
    services: RunServices | None = field(default=None, repr=False)

    @property
    def run(self) -> RunServices:
        """The run's services; a step that needs them fails clearly when none were given."""
        if self.services is None:
            raise RuntimeError(f"step {self.step_id} needs run services; none were given")
        return self.services
