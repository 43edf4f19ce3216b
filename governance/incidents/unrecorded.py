"""The recorder of a run that keeps no story: benchmarks, dry runs and commands.

Such a run opens no incident, restores nothing and holds no partition slot, yet it is handed
a recorder like any other, so no caller checks for a missing one; the one decision that
differs (whether to open an incident at all) asks `keeps_story`. Bound to no incident, it
writes nothing about steps, states or gates; notification attempts, which need no incident,
still go to the ledger, and `of`/`of_run` still give recorders of real incidents (the SLA
watch and the reconciliation write through them).
"""

from __future__ import annotations

from typing import Any

from governance.incidents.recorder import IncidentRecorder
from governance.incidents.reference import Claim, IncidentRef
from governance.ledger.records import StepResult


class UnrecordedRun(IncidentRecorder):
    """A recorder that opens no incident of its own (`keeps_story` is False)."""

    keeps_story = False

    def open(self, *args: Any, **kwargs: Any) -> IncidentRef:
        """Refused: a caller asks `keeps_story` before opening."""
        raise RuntimeError("a run that keeps no story opens no incident (see `keeps_story`)")

    def claim(self, *args: Any, **kwargs: Any) -> Claim:
        """Refused, as `open`."""
        raise RuntimeError("a run that keeps no story claims no incident (see `keeps_story`)")

    def resume(self, *args: Any, **kwargs: Any) -> IncidentRef:
        """Refused, as `open`."""
        raise RuntimeError("a run that keeps no story resumes no incident (see `keeps_story`)")

    def rebind(self, flow_run_id: str, event: dict[str, Any]) -> IncidentRef | None:
        """Nothing to find again: this run opened nothing."""
        return None

    def run_steps(self) -> list[StepResult]:
        """Nothing to restore."""
        return []
