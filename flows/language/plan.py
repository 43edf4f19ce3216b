"""A dry run: what a runbook would do for an event, touching no data.

Params are resolved from the event; `with:` values that depend only on the event and params
are rendered; values that read upstream results are shown as written ("at run time").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.language.compiler import CompiledRunbook
from flows.language.params import resolve_params
from flows.language.templates import TemplateRenderError, render_value


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


@dataclass
class Plan:
    """Resolved params and the waves of steps, gates last in each wave."""

    runbook: str
    pipeline: str
    investor_reporting: bool
    params: dict[str, Any]
    waves: list[list[PlannedStep]] = field(default_factory=list)


def make_plan(compiled: CompiledRunbook, event: dict[str, Any], overrides: dict[str, Any]) -> Plan:
    """Resolve params and render what can be rendered before anything runs."""
    runbook = compiled.runbook
    spec = runbook.spec
    base = {
        "event": event,
        "incident": {},
        "runbook": {"name": spec.runbook, "pipeline": spec.pipeline, "flow_run_id": None},
    }
    params = resolve_params(spec.params, overrides, base)
    namespace = {**base, "params": params, "steps": {}}
    steps = {s.id: s for s in spec.steps}
    plan = Plan(spec.runbook, spec.pipeline, runbook.pipeline.investor_reporting, params)
    for wave in compiled.waves:
        planned = []
        for step_id in (*wave.steps, *wave.gates):
            step, step_type = steps[step_id], runbook.types[step_id]
            planned.append(
                PlannedStep(
                    id=step.id,
                    uses=step.uses,
                    summary=step_type.summary,
                    role=step_type.role,
                    needs=tuple(step.needs),
                    with_=_render_known(step.with_, namespace),
                    when=step.when,
                    retries=step.retries,
                    timeout=str(step.timeout) if step.timeout else None,
                )
            )
        plan.waves.append(planned)
    return plan


def _render_known(value: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    rendered = {}
    for key, item in value.items():
        try:
            rendered[key] = render_value(item, namespace)
        except TemplateRenderError:
            rendered[key] = f"{item}  (at run time)"
    return rendered
