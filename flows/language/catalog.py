"""Which pipelines exist and which of them report to investors (from governance.yaml).

The runbook validator needs only these two facts; it reads them through this narrow view so
the language does not depend on the rest of governance (rotation, holidays, contacts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PipelineInfo:
    """A pipeline as the runbook language sees it."""

    name: str
    investor_reporting: bool


PipelineCatalog = dict[str, PipelineInfo]


def load_catalog(governance_file: Path | None = None) -> PipelineCatalog:
    """The pipelines declared in the governance file (the configured one by default)."""
    from governance.config import load_governance

    from warehouse.settings import get_settings

    config = load_governance(governance_file or get_settings().governance_file)
    return {
        name: PipelineInfo(name=name, investor_reporting=p.investor_reporting)
        for name, p in config.pipelines.items()
    }
