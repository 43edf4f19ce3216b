"""Safety rules no runbook may break, checked with the other validation passes.

Nothing reaches the investor portal without an authorized approval: in a runbook of an
investor-reporting pipeline every publish step lies downstream of an approval step, and an
approval step can be neither skipped by `when` nor allowed to fail.
"""

from __future__ import annotations

from flows.language.graph import Finding, StepGraph
from flows.language.models import Runbook
from recovery_tasks.registry import StepType


def check_policy(
    spec: Runbook,
    graph: StepGraph,
    types: dict[str, StepType],
    handler_types: dict[str, StepType],
    investor_reporting: bool,
) -> list[Finding]:
    """Findings for every rule the runbook breaks."""
    findings: list[Finding] = []
    approvals = {s.id for s in spec.steps if _role(types, s.id) == "approval"}
    for i, step in enumerate(spec.steps):
        role = _role(types, step.id)
        if role == "approval" and step.when is not None:
            findings.append(
                (
                    ("steps", i, "when"),
                    f"approval step '{step.id}' cannot have a `when` "
                    "condition: a gate that can be skipped is no gate; remove `when`",
                    True,
                )
            )
        if role == "approval" and step.allow_failure:
            findings.append(
                (
                    ("steps", i, "allow_failure"),
                    f"approval step '{step.id}' cannot be allowed "
                    "to fail: a rejected or timed-out approval must stop the run; remove "
                    "`allow_failure`",
                    True,
                )
            )
        if role == "publish" and investor_reporting:
            gates = approvals & graph.ancestors.get(step.id, frozenset())
            if not gates:
                hint = (
                    f"add `needs: [{sorted(approvals)[0]}]`"
                    if approvals
                    else (
                        "add an approval step (e.g. `uses: approval.on_call`) and make this step "
                        "need it"
                    )
                )
                findings.append(
                    (
                        ("steps", i, "uses"),
                        f"publish step '{step.id}' is not downstream of an "
                        f"approval step; pipeline '{spec.pipeline}' reports to investors and "
                        f"publishes only after approval: {hint}",
                        False,
                    )
                )
    for i, handler in enumerate(spec.on_failure):
        if _role(handler_types, handler.id) == "publish":
            findings.append(
                (
                    ("on_failure", i, "uses"),
                    f"failure handler '{handler.id}' publishes; a "
                    "failed run must not publish anything: notify instead",
                    False,
                )
            )
    return findings


def check_approver_names(
    spec: Runbook, types: dict[str, StepType], engineers: frozenset[str]
) -> list[Finding]:
    """Names under an approval step's `approvers:`/`also:` must be engineers in governance."""
    findings: list[Finding] = []
    for i, step in enumerate(spec.steps):
        if _role(types, step.id) != "approval":
            continue
        for field in ("approvers", "also"):
            names = step.with_.get(field)
            for j, name in enumerate(names if isinstance(names, list) else []):
                if isinstance(name, str) and name not in engineers:
                    findings.append(
                        (
                            ("steps", i, "with", field, j),
                            f"unknown engineer '{name}'; engineers "
                            f"in governance.yaml: {', '.join(sorted(engineers))}",
                            False,
                        )
                    )
    return findings


def _role(types: dict[str, StepType], key: str) -> str | None:
    step_type = types.get(key)
    return step_type.role if step_type else None
