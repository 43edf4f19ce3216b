"""A dry run: what a runbook would do for an event, in the order it would do it, touching no data.

Params are resolved from the event (a partition key is checked against its pipeline's grain);
`with:` values that depend only on the event and params are rendered; values that read
upstream results are shown as written ("at run time"). The order is the execution's: waves
cut at approval gates, and within a wave the levels of the graph (a step's level is one more
than its deepest need in the wave; steps of one level can run at the same time, and each
starts as soon as its own needs have finished). The failure handlers come last, and an event
that none of the runbook's triggers would answer is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.language.models import Step
from flows.language.params import resolve_params
from flows.language.templates import TemplateRenderError, render_value
from flows.language.triggers import describe, event_matches
from flows.language.validator import ValidatedRunbook
from flows.language.waves import Wave, runbook_waves
from foundation.durations import format_duration
from recovery_tasks.registry import StepType


@dataclass
class PlannedStep:
    """One step as it would run."""

    id: str
    uses: str
    summary: str
    role: str
    needs: tuple[str, ...]
    with_: dict[str, Any]
    when: str | None
    retries: int
    timeout: str | None
    trigger_rule: str = "all_success"


@dataclass
class Stage:
    """Steps that can run at the same time, or one approval gate (the run pauses there)."""

    steps: list[PlannedStep]
    gate: bool = False


@dataclass
class Plan:
    """Resolved params, the stages in order, the failure handlers, and warnings."""

    runbook: str
    pipeline: str
    investor_reporting: bool
    params: dict[str, Any]
    stages: list[Stage] = field(default_factory=list)
    handlers: list[PlannedStep] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def make_plan(runbook: ValidatedRunbook, event: dict[str, Any], overrides: dict[str, Any]) -> Plan:
    """Resolve params and render what can be rendered before anything runs."""
    spec = runbook.spec
    base = {
        "event": event,
        "incident": {},
        "runbook": {"name": spec.runbook, "pipeline": spec.pipeline, "flow_run_id": None},
    }
    params = resolve_params(spec.params, overrides, base, runbook.partitions)
    namespace = {**base, "params": params, "steps": {}}
    steps = {s.id: s for s in spec.steps}
    plan = Plan(spec.runbook, spec.pipeline, runbook.pipeline.investor_reporting, params)
    plan.warnings = [w.render().splitlines()[0] for w in runbook.warnings]
    plan.warnings += event_warnings(runbook, event)

    def planned(step: Step, step_type: StepType) -> PlannedStep:
        return PlannedStep(
            id=step.id,
            uses=step.uses,
            summary=step_type.summary,
            role=step_type.role,
            needs=tuple(step.needs),
            with_=_render_known(step.with_, namespace),
            when=step.when,
            retries=step.retries,
            timeout=format_duration(step.timeout) if step.timeout else None,
            trigger_rule=step.trigger_rule,
        )

    for level in ordered_stages(runbook):
        plan.stages.append(
            Stage(
                [planned(steps[s], runbook.types[s]) for s in level.steps],
                gate=level.gate,
            )
        )
    handlers = {h.id: h for h in spec.on_failure}
    plan.handlers = [
        planned(handlers[h], runbook.handler_types[h]) for h in runbook.handler_graph.order
    ]
    return plan


@dataclass(frozen=True)
class StageIds:
    """Step ids of one stage (see `ordered_stages`)."""

    steps: tuple[str, ...]
    gate: bool = False


def ordered_stages(runbook: ValidatedRunbook) -> list[StageIds]:
    """The order the execution follows: per wave, its levels, then its gates one by one."""
    stages: list[StageIds] = []
    for wave in runbook_waves(runbook.graph, runbook.types):
        stages += [StageIds(level) for level in _levels(wave, runbook.graph.needs)]
        stages += [StageIds((gate,), gate=True) for gate in wave.gates]
    return stages


def _levels(wave: Wave, needs: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    in_wave = set(wave.steps)
    depth: dict[str, int] = {}
    for step_id in wave.steps:  # already in topological order
        depth[step_id] = max((depth[up] + 1 for up in needs[step_id] if up in in_wave), default=0)
    count = max(depth.values(), default=-1) + 1
    by_level: list[list[str]] = [[] for _ in range(count)]
    for step_id in wave.steps:
        by_level[depth[step_id]].append(step_id)
    return [tuple(level) for level in by_level]


def event_warnings(runbook: ValidatedRunbook, event: dict[str, Any]) -> list[str]:
    """Why this event would not start this runbook, if it would not."""
    triggers = runbook.spec.on
    if not event or not event.get("event"):
        return []
    if not triggers:
        return ["this runbook has no `on:` triggers: no event starts it, only `runbook run`"]
    if any(event_matches(t, event) for t in triggers):
        return []
    resource = event.get("resource") or {}
    seen = ", ".join(f"{k}={v}" for k, v in sorted(resource.items())) or "no resource"
    expected = "; ".join(describe(t) for t in triggers)
    return [
        f"the event ({event.get('event')} for {seen}) matches none of this runbook's "
        f"triggers ({expected}): it would not start this runbook"
    ]


def _render_known(value: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    rendered = {}
    for key, item in value.items():
        try:
            rendered[key] = render_value(item, namespace)
        except TemplateRenderError:
            rendered[key] = f"{item}  (at run time)"
    return rendered
