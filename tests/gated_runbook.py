"""The investor runbook the gate tests run: a check, an approval gate, a publication."""

from __future__ import annotations

from pathlib import Path

GATED = """
runbook: {name}
pipeline: aggregate_profit
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
    with: {{target: "{target}"}}
"""


def gated_runbook(name: str, gate: str, timeout: str, target: Path) -> str:
    """The runbook's YAML; `gate` is the approval step's `with:` mapping, without braces."""
    return GATED.format(name=name, gate=gate, timeout=timeout, target=target)
