"""Is a pipeline's source ready for a partition? One look at each condition, nothing changed.

What a recovery waits for before it re-runs (`sources.wait`): the source answers
(`reachable`), its tables match the contract (`contract`: no dropped column or undeclared
rename), every day has the rows the source announced (`complete`), and the critical fields
are present and map to known values (`quality`). Each condition is a read: probing never
writes, records no verdict and can run as often as a backoff asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from warehouse.calendar import Partition
from warehouse.checks import probe_checks
from warehouse.completeness import find_gaps
from warehouse.contract import drift_report
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.pipelines import Pipeline
from warehouse.preflight import check_reachable

Condition = Literal["reachable", "contract", "complete", "quality"]
CONDITIONS: tuple[Condition, ...] = ("reachable", "contract", "complete", "quality")
QUALITY_CHECKS = ["critical_not_null", "valid_mapping"]


@dataclass(frozen=True)
class Readiness:
    """The conditions that hold and, for the others, why not."""

    checked: tuple[Condition, ...]
    not_ready: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """Every condition asked for holds."""
        return not self.not_ready

    def reason(self) -> str:
        """Why the source is not ready, one clause per condition."""
        return "; ".join(f"{c}: {why}" for c, why in self.not_ready.items()) or "ready"


def probe(platform: Platform, pipe: Pipeline, part: Partition, conditions: list[str]) -> Readiness:
    """Check `conditions` in order; an unreachable source or a broken contract leaves the
    rest unchecked (their queries would fail for the same reason)."""
    wanted = tuple(c for c in CONDITIONS if c in conditions)
    not_ready: dict[str, str] = {}
    for condition in wanted:
        reason = _CHECKS[condition](platform, pipe, part)
        if reason:
            not_ready[condition] = reason
            if condition in ("reachable", "contract"):
                break
    return Readiness(wanted, not_ready)


def _reachable(platform: Platform, pipe: Pipeline, part: Partition) -> str | None:
    try:
        check_reachable(platform, pipe, part)
    except PipelineFailure as failure:
        return failure.detail
    return None


def _contract(platform: Platform, pipe: Pipeline, _part: Partition) -> str | None:
    report = drift_report(platform, pipe)
    return report.summary() if report.blocking else None


def _complete(platform: Platform, pipe: Pipeline, part: Partition) -> str | None:
    gaps = [g for g in find_gaps(platform, pipe, part).gaps if g.where == "source"]
    shown = [f"{g.table} {g.day}: {g.actual} of {g.expected} rows" for g in gaps[:5]]
    more = f" and {len(gaps) - 5} more days" if len(gaps) > 5 else ""
    return ", ".join(shown) + more if gaps else None


def _quality(platform: Platform, pipe: Pipeline, part: Partition) -> str | None:
    failing = [r for r in probe_checks(platform, pipe, part, QUALITY_CHECKS) if not r.passed]
    return ", ".join(f"{r.name} ({r.failing_rows[:3]})" for r in failing) or None


_CHECKS = {
    "reachable": _reachable,
    "contract": _contract,
    "complete": _complete,
    "quality": _quality,
}
