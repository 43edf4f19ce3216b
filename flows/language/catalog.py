"""Which pipelines exist, which report to investors, their grain, and who the engineers are.

The runbook validator needs only these facts: the pipelines and engineers of governance.yaml,
and each pipeline's partition grain from the warehouse's pipeline definitions. It reads them
through this narrow view so the language does not depend on the rest (rotation, holidays,
contacts, SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


@dataclass(frozen=True)
class PipelineInfo:
    """A pipeline as the runbook language sees it.

    `grain` (`day`, `week` or `fiscal_month`) says what its partition keys look like; None
    when the pipeline has no definition in the warehouse (its keys are then not checked).
    `sla` is its whole SLA (waits beyond it are warned about), None when unknown.
    """

    name: str
    investor_reporting: bool
    grain: str | None = None
    sla: timedelta | None = None

    @property
    def resource_id(self) -> str:
        """The resource of its `pipeline.failed` events."""
        return f"pipeline.{self.name}"

    @property
    def flow_name(self) -> str:
        """The name of its Prefect flow (the resource name of its flow-run events)."""
        return self.name.replace("_", "-")


class PipelineCatalog(dict[str, PipelineInfo]):
    """Pipelines by name, plus the engineers approval steps may name.

    A plain dict works too (then engineer names are not checked at load time).
    """

    def __init__(self, pipelines: dict[str, PipelineInfo], engineers: frozenset[str]) -> None:
        super().__init__(pipelines)
        self.engineers = engineers


def load_catalog(governance_file: Path | None = None) -> PipelineCatalog:
    """The pipelines declared in the governance file (the configured one by default)."""
    from foundation.settings import get_settings
    from governance.config import load_governance
    from warehouse.pipelines import registry

    config = load_governance(governance_file or get_settings().governance.governance_file)
    pipelines = {
        name: PipelineInfo(
            name=name,
            investor_reporting=p.investor_reporting,
            grain=registry[name].grain if name in registry else None,
            sla=p.sla,
        )
        for name, p in config.pipelines.items()
    }
    return PipelineCatalog(pipelines, frozenset(config.engineers))
