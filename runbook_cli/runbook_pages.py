"""One Markdown page per runbook, for the team wiki, generated from the runbook itself.

A page says what an on-call engineer needs before the pager goes off: the pipeline, its
owners and SLA, what starts the runbook, the step graph (Mermaid, drawn by `runbook graph`),
every step with its params (as written, or the step type's default), the checks it runs, the
approval gate and who may answer it, and what happens when the recovery fails. Everything
comes from the runbook, the step registry, the warehouse's check registry and the governance
file, never from the clock, so the pages are the same on every machine (a test regenerates
docs/runbooks/ and fails when the committed pages differ).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flows.language.diagram import render_graph
from flows.language.models import Step
from flows.language.plan import ordered_stages
from flows.language.step_reference import step_doc
from flows.language.validator import ValidatedRunbook
from foundation.durations import format_duration
from governance.models import GovernanceConfig
from recovery_tasks.registry import StepType
from warehouse.common_checks import checks_of
from warehouse.pipelines import get_pipeline

INDEX = "README.md"


@dataclass(frozen=True)
class GeneratedDocs:
    """The wiki's pages (file name -> Markdown) and each runbook page's step graph as SVG."""

    pages: dict[str, str]
    graphs: dict[str, str]


DEFAULT_GATE_TIMEOUT = "2h"  # what the gate waits when the step sets no `timeout:`


def page_name(runbook: ValidatedRunbook) -> str:
    return f"{runbook.name}.md"


def render_page(runbook: ValidatedRunbook, config: GovernanceConfig) -> str:
    """The wiki page of one runbook."""
    spec = runbook.spec
    lines = [
        f"# Runbook `{runbook.name}`",
        "",
        f"> Generated from `{runbook.file}` by `runbook docs`; edit the runbook, not this page.",
        "",
    ]
    if spec.description:
        lines += [spec.description.strip(), ""]
    lines += _glance(runbook, config)
    lines += ["", "## Triggers", "", *_triggers(runbook)]
    if spec.params:
        lines += ["", "## Params", "", *_params(runbook)]
    lines += ["", "## Step graph", "", "```mermaid", render_graph(runbook, "mermaid").rstrip()]
    lines += [
        "```",
        "",
        "## Steps",
        "",
        "Numbered in the order they run: steps of one number run at the same time.",
        "",
    ]
    steps = {s.id: s for s in spec.steps}
    for number, stage in enumerate(ordered_stages(runbook), start=1):
        for step_id in stage.steps:
            lines += _step(f"{number}.", steps[step_id], runbook.types[step_id])
    lines += ["## Checks", "", *_checks(runbook)]
    gates = [s for s in spec.steps if runbook.types[s.id].role == "approval"]
    lines += ["## Approval", ""]
    lines += [line for g in gates for line in _gate(g, runbook.types[g.id], runbook, config)] or [
        "No approval gate: the run goes through without stopping for a person.",
        "",
    ]
    lines += ["## On failure", ""]
    handlers = {h.id: h for h in spec.on_failure}
    if not handlers:
        lines += ["No handlers: a failed recovery ends Failed and its incident stays open.", ""]
    for number, handler_id in enumerate(runbook.handler_graph.order, start=1):
        lines += _step(f"✗{number}.", handlers[handler_id], runbook.handler_types[handler_id])
    return "\n".join(lines).rstrip() + "\n"


def _glance(runbook: ValidatedRunbook, config: GovernanceConfig) -> list[str]:
    pipeline = config.pipeline(runbook.spec.pipeline)
    rotation = config.rotation
    thresholds = ", ".join(f"{p}%" for p in sorted(config.sla_notify_at))
    escalate = config.escalate_after(runbook.spec.pipeline)
    investor = (
        "yes: nothing reaches the investor portal without an authorized approval"
        if pipeline.investor_reporting
        else "no"
    )
    rows = [
        ("pipeline", f"`{runbook.spec.pipeline}`: {pipeline.description or pipeline.area}"),
        ("area", pipeline.area),
        ("investor reporting", investor),
        ("owners", f"{pipeline.primary} (primary), {pipeline.secondary} (secondary, the backup)"),
        (
            "on call",
            f"weekly rotation {', '.join(rotation.order)}, handoff {rotation.handoff.weekday} "
            f"{rotation.handoff.time:%H:%M} {rotation.timezone}; the primary is told first, "
            "the backup steps in on escalation (`runbook oncall`)",
        ),
        (
            "SLA",
            f"{format_duration(pipeline.sla)} from the failure to the republished output; "
            f"on call and owners are told at {thresholds} of it and at the breach",
        ),
        (
            "escalation",
            f"an approval unanswered for {format_duration(escalate)} goes to the on-call "
            "backup and the owners",
        ),
    ]
    return ["| | |", "|---|---|", *[f"| **{k}** | {_cell(v)} |" for k, v in rows]]


def _triggers(runbook: ValidatedRunbook) -> list[str]:
    triggers = runbook.spec.on
    if not triggers:
        return ["None: only `runbook run` starts it."]
    rows = ["| event | resource must match | related resource must match |", "|---|---|---|"]
    for t in triggers:
        rows.append(f"| `{t.event}` | {_mapping(t.match)} | {_mapping(t.match_related)} |")
    return rows


def _params(runbook: ValidatedRunbook) -> list[str]:
    rows = ["| param | type | from | default | description |", "|---|---|---|---|---|"]
    for name, p in runbook.spec.params.items():
        rows.append(
            f"| `{name}` | {p.type} | {_code(p.from_)} | {_code(p.default)} | "
            f"{_cell(p.description)} |"
        )
    return rows


def _step(number: str, step: Step, step_type: StepType) -> list[str]:
    doc = step_doc(step_type)
    lines = [f"### {number} `{step.id}`: {step.uses}", "", doc.summary, ""]
    facts = []
    if step.needs:
        facts.append(f"after {', '.join(f'`{n}`' for n in step.needs)}")
    if step.trigger_rule == "none_failed":
        facts.append("runs unless a need failed (a join after a branch)")
    if step.when:
        facts.append(f"only when `{step.when}`")
    if step.retries:
        delay = f", {format_duration(step.retry_delay)} apart" if step.retry_delay else ""
        facts.append(f"retried up to {step.retries} times{delay}")
    if step.timeout:
        facts.append(f"timeout {format_duration(step.timeout)}")
    if step.allow_failure:
        facts.append("may fail without failing the run")
    if facts:
        lines += [f"- {fact}" for fact in facts] + [""]
    if doc.params:
        lines += ["| param | value | description |", "|---|---|---|"]
        for p in doc.params:
            value = _code(step.with_[p.name]) if p.name in step.with_ else f"default `{p.default}`"
            lines.append(f"| `{p.name}` | {value} | {_cell(p.description)} |")
        lines.append("")
    return lines


def _checks(runbook: ValidatedRunbook) -> list[str]:
    uses = {s.uses for s in runbook.spec.steps}
    pipe = get_pipeline(runbook.spec.pipeline)
    lines: list[str] = []
    if "checks.source_counts" in uses:
        lines += [
            f"`checks.source_counts` compares the source with the warehouse: {pipe.measure.name}.",
            "",
        ]
    if "checks.data_quality" in uses:
        lines += [
            f"`checks.data_quality` runs every check of `{pipe.name}`; a check is a query whose "
            "rows are the failures, and a failing blocking check fails the step:",
            "",
            "| check | failure kind | blocking | what it asserts |",
            "|---|---|---|---|",
            *[
                f"| `{c.name}` | {c.kind} | {'yes' if c.blocking else 'no (warns)'} | "
                f"{_cell(c.description)} |"
                for c in checks_of(pipe)
            ],
            "",
        ]
    return lines or ["This runbook runs no checks.", ""]


def _gate(
    step: Step, step_type: StepType, runbook: ValidatedRunbook, config: GovernanceConfig
) -> list[str]:
    pipeline = config.pipeline(runbook.spec.pipeline)
    params: Any = step_type.params.model_validate(step.with_)
    if params.approvers is not None:
        who = f"only {', '.join(params.approvers)}"
    else:
        who = (
            "the engineers on call when the gate opens (primary and backup) and the owners "
            f"{pipeline.primary} and {pipeline.secondary}"
        )
    if params.also:
        who += f", and also {', '.join(params.also)}"
    escalate = params.escalate_after or config.escalate_after(runbook.spec.pipeline)
    timeout = format_duration(step.timeout) if step.timeout else DEFAULT_GATE_TIMEOUT
    return [
        f"Gate `{step.id}` pauses the run with the evidence in the Prefect UI (Resume form) and "
        "`runbook approve` / `runbook reject`.",
        "",
        f"- **who may answer**: {who}; whoever started the run by hand may not",
        f"- **approvals needed**: {params.min_approvals} distinct",
        f"- **escalation**: unanswered after {format_duration(escalate)}, the on-call backup and "
        "the owners are told (by the server, even if the run's process is gone)",
        f"- **gives up** after {timeout}: nothing is published and the incident stays open; "
        "a reject stops the run the same way",
        "",
    ]


def render_index(pages: list[tuple[ValidatedRunbook, str]], config: GovernanceConfig) -> str:
    """The index page: one row per runbook, linking its page."""
    lines = [
        "# Runbooks",
        "",
        "> Generated by `runbook docs --out docs/runbooks`; edit the runbooks, not these pages.",
        "",
        "| runbook | pipeline | investor reporting | owners | SLA | starts on | steps | gates |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for runbook, name in pages:
        pipeline = config.pipeline(runbook.spec.pipeline)
        gates = [s.id for s in runbook.spec.steps if runbook.types[s.id].role == "approval"]
        events = ", ".join(sorted({f"`{t.event}`" for t in runbook.spec.on})) or "-"
        lines.append(
            f"| [{runbook.name}]({name}) | `{runbook.spec.pipeline}` | "
            f"{'yes' if pipeline.investor_reporting else 'no'} | "
            f"{pipeline.primary}, {pipeline.secondary} | {format_duration(pipeline.sla)} | "
            f"{events} | {len(runbook.spec.steps)} | {', '.join(gates) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def _mapping(values: dict[str, Any]) -> str:
    return ", ".join(f"`{k}` = {_code(v)}" for k, v in values.items()) or "-"


def _code(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{_cell(text)}`"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
