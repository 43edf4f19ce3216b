"""Partition keys per pipeline: each pipeline's grain says what its keys look like.

| grain | form | example |
|---|---|---|
| `fiscal_month` | `YYYY-MM` | `2026-10` |
| `week` | ISO week `YYYY-Www` | `2026-W43` |
| `day` | `YYYY-MM-DD` | `2026-10-14` |

A param is a partition when a step receives it whole as its `partition:`
(`partition: "{{ params.partition }}"`); its value is checked against the grain of the
pipeline that step works on as soon as params resolve (`runbook plan`, `runbook run`, and
the first thing a recovery run does), so a day key for a weekly pipeline stops the run
before any step, with the expected form in the message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flows.language.catalog import PipelineInfo
from flows.language.graph import Finding
from flows.language.models import Runbook
from flows.language.pipelines import step_pipeline
from warehouse.calendar import PartitionError, parse_partition

FORMS = {
    "fiscal_month": ("a fiscal month", "YYYY-MM", "2026-10"),
    "week": ("an ISO week", "YYYY-Www", "2026-W43"),
    "day": ("a day", "YYYY-MM-DD", "2026-10-14"),
}
_WHOLE_PARAM = re.compile(r"^\s*\{\{\s*params\.(?P<name>[A-Za-z_]\w*)\s*\}\}\s*$")


@dataclass(frozen=True)
class PartitionRule:
    """The pipeline whose partition a param is, and that pipeline's grain."""

    pipeline: str
    grain: str

    def expected(self) -> str:
        """The form keys of this grain take, e.g. `YYYY-Www, an ISO week, e.g. 2026-W43`."""
        words, form, example = FORMS.get(self.grain, (self.grain, "?", "?"))
        return f"{form}, {words}, e.g. {example}"


def partition_params(
    spec: Runbook, catalog: Mapping[str, PipelineInfo]
) -> tuple[dict[str, PartitionRule], list[Finding]]:
    """Which params are partitions of which pipeline; a param fed to two grains is a finding."""
    rules: dict[str, PartitionRule] = {}
    findings: list[Finding] = []
    for section, steps in (("steps", spec.steps), ("on_failure", spec.on_failure)):
        for i, step in enumerate(steps):
            value = step.with_.get("partition")
            match = _WHOLE_PARAM.match(value) if isinstance(value, str) else None
            pipeline = step_pipeline(step, spec.pipeline)
            info = catalog.get(pipeline) if match and pipeline else None
            if match is None or info is None or info.grain is None:
                continue
            rule = PartitionRule(info.name, info.grain)
            name = match["name"]
            earlier = rules.setdefault(name, rule)
            if earlier.grain != rule.grain:
                findings.append(
                    (
                        (section, i, "with", "partition"),
                        f"param '{name}' is a partition of pipeline '{earlier.pipeline}' "
                        f"({earlier.expected()}) and of '{rule.pipeline}' ({rule.expected()}); "
                        "one key cannot be both: declare a param per pipeline",
                        False,
                    )
                )
    return rules, findings


def check_partition(name: str, value: object, rule: PartitionRule) -> None:
    """Raise ValueError, saying the expected form, when `value` is no key of the rule's grain."""
    try:
        parse_partition(rule.grain, str(value))  # type: ignore[arg-type]
    except PartitionError as exc:
        detail = str(exc).split(": ", 1)[1] if ": " in str(exc) else ""
        why = f" ({detail})" if detail and "expected" not in detail else ""
        raise ValueError(
            f"param '{name}': {value!r} is not a partition of pipeline '{rule.pipeline}'"
            f"{why}; expected {rule.expected()}"
        ) from None
