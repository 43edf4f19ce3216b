"""The step graph drawn as Mermaid, Graphviz dot, SVG or plain text, failure handlers included.

Gates are diamonds (the run pauses there); a step with `when:` shows its condition, one with
`trigger_rule: none_failed` says it joins; the `on_failure` steps sit apart, in the order
they run once the run has failed.
"""

from __future__ import annotations

import itertools

from flows.language.diagram_svg import render_svg
from flows.language.models import Step
from flows.language.plan import ordered_stages
from flows.language.validator import ValidatedRunbook

FAILED = "run-failed"  # not a valid step id, so it never clashes with one


def render_graph(runbook: ValidatedRunbook, fmt: str) -> str:
    """Draw the runbook's graph in `fmt` (mermaid, dot, svg or text)."""
    if fmt == "mermaid":
        return _mermaid(runbook)
    if fmt == "dot":
        return _dot(runbook)
    if fmt == "text":
        return _text(runbook)
    if fmt == "svg":
        return render_svg(runbook)
    raise ValueError(f"unknown format {fmt!r}; use mermaid, dot, svg or text")


def _handler_chain(runbook: ValidatedRunbook) -> list[Step]:
    handlers = {h.id: h for h in runbook.spec.on_failure}
    return [handlers[h] for h in runbook.handler_graph.order]


def _mermaid(runbook: ValidatedRunbook) -> str:
    lines = ["flowchart TD"]
    for step in runbook.spec.steps:
        label = f"{step.id}<br/><small>{step.uses}</small>"
        if runbook.types[step.id].role == "approval":
            lines.append(f'    {step.id}{{"{label}"}}')
        else:
            lines.append(f'    {step.id}["{label}"]')
    lines += [
        f"    {up} --> {s.id}" for s in runbook.spec.steps for up in runbook.graph.needs[s.id]
    ]
    handlers = _handler_chain(runbook)
    if handlers:
        lines.append('    subgraph on_failure ["on failure"]')
        lines.append(f'        {FAILED}(["the run failed"])')
        for handler in handlers:
            lines.append(f'        {handler.id}["{handler.id}<br/><small>{handler.uses}</small>"]')
        chain = [FAILED, *(h.id for h in handlers)]
        lines += [f"        {a} -.-> {b}" for a, b in itertools.pairwise(chain)]
        lines.append("    end")
    return "\n".join(lines) + "\n"


def _dot(runbook: ValidatedRunbook) -> str:
    lines = [f'digraph "{runbook.name}" {{', "    rankdir=TB;"]
    for step in runbook.spec.steps:
        shape = "diamond" if runbook.types[step.id].role == "approval" else "box"
        lines.append(f'    "{step.id}" [shape={shape}, label="{step.id}\\n{step.uses}"];')
    lines += [
        f'    "{up}" -> "{s.id}";' for s in runbook.spec.steps for up in runbook.graph.needs[s.id]
    ]
    handlers = _handler_chain(runbook)
    if handlers:
        lines += [
            "    subgraph cluster_on_failure {",
            '        label="on failure"; style=dashed;',
            f'        "{FAILED}" [shape=oval, label="the run failed"];',
        ]
        for handler in handlers:
            lines.append(
                f'        "{handler.id}" [shape=box, label="{handler.id}\\n{handler.uses}"];'
            )
        chain = [FAILED, *(h.id for h in handlers)]
        lines += [f'        "{a}" -> "{b}" [style=dashed];' for a, b in itertools.pairwise(chain)]
        lines.append("    }")
    return "\n".join([*lines, "}"]) + "\n"


def _text(runbook: ValidatedRunbook) -> str:
    steps = {s.id: s for s in runbook.spec.steps}
    lines = []
    for number, stage in enumerate(ordered_stages(runbook), start=1):
        for i, sid in enumerate(stage.steps):
            head = f"{number:>3}. " if i == 0 else "     "
            step = steps[sid]
            if stage.gate:
                lines.append(f"{head}⏸ {sid} ({step.uses}): the run pauses for approval")
                continue
            after = f"  after {', '.join(step.needs)}" if step.needs else ""
            join = "  (runs unless a need failed)" if step.trigger_rule == "none_failed" else ""
            when = f"  when {step.when}" if step.when else ""
            lines.append(f"{head}{sid} ({step.uses}){after}{join}{when}")
    handlers = _handler_chain(runbook)
    if handlers:
        lines.append("on failure:")
        lines += [f"  ✗ {h.id} ({h.uses})" for h in handlers]
    return "\n".join(lines) + "\n"
