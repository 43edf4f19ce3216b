"""A runbook with model errors, read as far as it can be: so policy speaks in the same round.

When a field somewhere fails its model (a bad duration, a wrong boolean), the safety rules
(`flows.language.policy`, `gate_inputs`) still have something to say about the rest: a
publication with no gate, a templated approver. They run on this partial runbook, where each
step that fails its model keeps what can be read of it (id, uses, needs, with, when) and the
rest takes defaults, so an author meets every problem of the file at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from flows.language.models import Runbook, Step


def partial_runbook(data: dict[str, Any]) -> Runbook | None:
    """The runbook as far as it reads; None when it names no pipeline or has no step list."""
    pipeline, steps = data.get("pipeline"), data.get("steps")
    if not isinstance(pipeline, str) or not isinstance(steps, list):
        return None
    handlers = data.get("on_failure")
    return Runbook.model_construct(
        runbook=str(data.get("runbook", "")),
        pipeline=pipeline,
        steps=[_step(raw, i, "steps") for i, raw in enumerate(steps)],
        on_failure=[_step(raw, i, "on_failure") for i, raw in enumerate(handlers)]
        if isinstance(handlers, list)
        else [],
    )


def _step(raw: Any, i: int, section: str) -> Step:
    try:
        return Step.model_validate(raw)
    except ValidationError:
        pass
    raw = raw if isinstance(raw, dict) else {}
    step_id = raw.get("id")
    return Step.model_construct(
        id=step_id if isinstance(step_id, str) else f"_unreadable_{section}_{i}",
        uses=raw.get("uses") if isinstance(raw.get("uses"), str) else "-",
        needs=[n for n in raw.get("needs") or [] if isinstance(n, str)]
        if isinstance(raw.get("needs"), list)
        else [],
        with_=raw["with"] if isinstance(raw.get("with"), dict) else {},
        when=raw.get("when") if isinstance(raw.get("when"), str) else None,
        allow_failure=raw.get("allow_failure") is True,
    )
