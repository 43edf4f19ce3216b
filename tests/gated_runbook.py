"""The investor runbook the gate tests run: a check, an approval gate, a publication."""

from __future__ import annotations

from pathlib import Path

GATED = """
runbook: {name}
pipeline: {pipeline}
steps:
  - id: counts
    uses: test.add
    with: {{a: 40, b: 2}}
  - id: approve
    uses: approval.on_call
    needs: [counts]
    timeout: {timeout}
    with: {{{gate}}}
  - id: publish
    uses: test.publish
    needs: [approve]
    with: {{target: "{target}"{publishes}}}
"""


PUBLISHED_PARTITION = "2026-09"  # the partition a publication of another pipeline writes


def gated_runbook(
    name: str,
    gate: str,
    timeout: str,
    target: Path,
    *,
    pipeline: str = "aggregate_profit",
    publishes: str | None = None,
    published_partition: str = PUBLISHED_PARTITION,
) -> str:
    """The runbook's YAML; `gate` is the approval step's `with:` mapping, without braces;
    `publishes` names another pipeline than the runbook's `pipeline` for the publication
    (of `published_partition`)."""
    other = f', pipeline: {publishes}, partition: "{published_partition}"' if publishes else ""
    return GATED.format(
        name=name, gate=gate, timeout=timeout, target=target, pipeline=pipeline, publishes=other
    )
