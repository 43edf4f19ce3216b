"""The step graph drawn as Mermaid, Graphviz dot or plain text."""

from __future__ import annotations

from flows.language.compiler import CompiledRunbook


def render_graph(compiled: CompiledRunbook, fmt: str) -> str:
    """Draw the runbook's graph; gates are marked, skippable steps show their condition."""
    runbook = compiled.runbook
    steps = {s.id: s for s in runbook.spec.steps}
    edges = [(up, s) for s in runbook.graph.order for up in runbook.graph.needs[s]]
    if fmt == "mermaid":
        lines = ["flowchart TD"]
        for sid in runbook.graph.order:
            role = runbook.types[sid].role
            label = f"{sid}<br/><small>{steps[sid].uses}</small>"
            lines.append(
                f'    {sid}{{"{label}"}}' if role == "approval" else f'    {sid}["{label}"]'
            )
        lines += [f"    {a} --> {b}" for a, b in edges]
        return "\n".join(lines) + "\n"
    if fmt == "dot":
        lines = [f'digraph "{runbook.name}" {{', "    rankdir=TB;"]
        for sid in runbook.graph.order:
            shape = "diamond" if runbook.types[sid].role == "approval" else "box"
            lines.append(f'    "{sid}" [shape={shape}, label="{sid}\\n{steps[sid].uses}"];')
        lines += [f'    "{a}" -> "{b}";' for a, b in edges]
        return "\n".join([*lines, "}"]) + "\n"
    if fmt == "text":
        lines = []
        for number, wave in enumerate(compiled.waves, start=1):
            lines.append(f"wave {number}")
            for sid in wave.steps:
                after = f"  after {', '.join(steps[sid].needs)}" if steps[sid].needs else ""
                when = f"  when {steps[sid].when}" if steps[sid].when else ""
                lines.append(f"  {sid} ({steps[sid].uses}){after}{when}")
            for sid in wave.gates:
                lines.append(f"  ⏸ {sid} ({steps[sid].uses}): the run pauses for approval")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}; use mermaid, dot or text")
