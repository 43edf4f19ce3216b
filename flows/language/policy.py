"""Safety rules no runbook may break, checked with the other validation passes.

Nothing reaches the investor portal without an authorized approval: a publish step that
writes to an investor-reporting pipeline (its `with: pipeline:`, else the runbook's) lies
downstream of an approval step of that same pipeline (`flows.language.gate_scope`) and is
pinned to the report the approver saw; an approval
step can be neither skipped by `when` nor allowed to fail, and can be passed by the people
it names; a failure handler never publishes.
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.language.catalog import PipelineInfo
from flows.language.gate_scope import governing_gates, wrong_gate
from flows.language.graph import Finding, StepGraph
from flows.language.models import Runbook, Step
from flows.language.pinning import check_pinned
from flows.language.pipelines import step_pipeline
from flows.language.templates import is_template
from recovery_tasks.registry import StepType


def check_policy(
    spec: Runbook,
    graph: StepGraph,
    types: dict[str, StepType],
    handler_types: dict[str, StepType],
    catalog: Mapping[str, PipelineInfo],
) -> list[Finding]:
    """Findings for every rule the runbook breaks."""
    findings: list[Finding] = []
    approvals = [s.id for s in spec.steps if _role(types, s.id) == "approval"]
    for i, step in enumerate(spec.steps):
        role = _role(types, step.id)
        if role == "approval":
            findings += _gate_rules(i, step)
        if role == "publish" and not graph.cyclic:
            investor = _writes_to_investors(step, spec.pipeline, catalog)
            if investor is not None:
                findings += _publish_rules(i, step, investor, approvals, graph, types, spec)
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


def _gate_rules(i: int, step: Step) -> list[Finding]:
    findings: list[Finding] = []
    if step.when is not None:
        findings.append(
            (
                ("steps", i, "when"),
                f"approval step '{step.id}' cannot have a `when` "
                "condition: a gate that can be skipped is no gate; remove `when`",
                True,
            )
        )
    if step.allow_failure:
        findings.append(
            (
                ("steps", i, "allow_failure"),
                f"approval step '{step.id}' cannot be allowed "
                "to fail: a rejected or timed-out approval must stop the run; remove "
                "`allow_failure`",
                True,
            )
        )
    return findings


def _writes_to_investors(
    step: Step, runbook_pipeline: str, catalog: Mapping[str, PipelineInfo]
) -> str | None:
    """The investor pipeline a publish step writes to (a description), or None if internal.

    A pipeline given by a template is known only at run time: treated as investor-reporting.
    """
    target = step_pipeline(step, runbook_pipeline)
    if target is None:
        return "its pipeline, chosen at run time, may report to investors"
    info = catalog.get(target)
    if info is None or not info.investor_reporting:
        return None
    return f"pipeline '{target}' reports to investors"


def _publish_rules(
    i: int,
    step: Step,
    investor: str,
    approvals: list[str],
    graph: StepGraph,
    types: dict[str, StepType],
    spec: Runbook,
) -> list[Finding]:
    gates = [g for g in approvals if graph.is_upstream(g, step.id)]
    if not gates:
        hint = (
            f"add `needs: [{approvals[0]}]`"
            if approvals
            else "add an approval step (e.g. `uses: approval.on_call`) and make this step need it"
        )
        return [
            (
                ("steps", i, "uses"),
                f"publish step '{step.id}' is not downstream of an approval step; "
                f"{investor} and publishes only after approval: {hint}",
                False,
            )
        ]
    target = step_pipeline(step, spec.pipeline)
    own = governing_gates(target, gates, spec)
    if not own and target is not None:
        return [wrong_gate(i, step, target, gates, spec)]
    return check_pinned(i, step, types[step.id], own, graph, types)


def check_approvers(
    spec: Runbook, types: dict[str, StepType], engineers: frozenset[str] | None
) -> list[Finding]:
    """Approval steps name only engineers in governance, and can gather `min_approvals`."""
    findings: list[Finding] = []
    for i, step in enumerate(spec.steps):
        if _role(types, step.id) != "approval":
            continue
        named: dict[str, list[str]] = {}
        for field in ("approvers", "also"):
            names = step.with_.get(field)
            names = names if isinstance(names, list) else []
            named[field] = [n for n in names if isinstance(n, str) and not is_template(n)]
            for j, name in enumerate(names):
                if engineers is not None and name in named[field] and name not in engineers:
                    findings.append(
                        (
                            ("steps", i, "with", field, j),
                            f"unknown engineer '{name}'; engineers "
                            f"in governance.yaml: {', '.join(sorted(engineers))}",
                            False,
                        )
                    )
        findings += _reachable_quorum(i, step, named, engineers)
    return findings


def _reachable_quorum(
    i: int, step: Step, named: dict[str, list[str]], engineers: frozenset[str] | None
) -> list[Finding]:
    """`min_approvals` no larger than the number of people who could ever approve."""
    wanted = step.with_.get("min_approvals", 1)
    if not isinstance(wanted, int) or isinstance(wanted, bool):
        return []
    if isinstance(step.with_.get("approvers"), list):
        people = set(named["approvers"]) | set(named["also"])
        who = f"approvers: {', '.join(sorted(people)) or 'none'}"
    elif engineers is not None and "approvers" not in step.with_:
        people = set(engineers) | set(named["also"])
        who = "the on-call engineers and owners, at most every engineer in governance.yaml"
    else:
        return []
    if wanted <= len(people):
        return []
    count = {0: "nobody", 1: "only 1 person"}.get(len(people), f"only {len(people)} people")
    at = "min_approvals" if "min_approvals" in step.with_ else "approvers"
    return [
        (
            ("steps", i, "with", at),
            f"min_approvals is {wanted} but {count} can ever approve ({who}); the gate "
            "could never pass: "
            + (
                "name approvers, or remove `approvers:` for the on-call engineers and owners"
                if not people
                else "lower min_approvals or name more approvers"
            ),
            False,
        )
    ]


def _role(types: dict[str, StepType], key: str) -> str | None:
    step_type = types.get(key)
    return step_type.role if step_type else None
