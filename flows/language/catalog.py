"""Which pipelines exist, which report to investors, and who the engineers are.

The runbook validator needs only these facts from governance.yaml; it reads them through
this narrow view so the language does not depend on the rest (rotation, holidays, contacts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PipelineInfo:
    """A pipeline as the runbook language sees it."""

    name: str
    investor_reporting: bool


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

    config = load_governance(governance_file or get_settings().governance.governance_file)
    pipelines = {
        name: PipelineInfo(name=name, investor_reporting=p.investor_reporting)
        for name, p in config.pipelines.items()
    }
    return PipelineCatalog(pipelines, frozenset(config.engineers))
