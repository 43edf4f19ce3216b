"""The `runbook` command: a thin layer over the project's facades.

Each command (or command group) lives in its own module of this package and is declared
here by name, module and summary; `LazyGroup` imports a command's module only when that
command runs, so `runbook --help`, `validate` or `oncall` never import Prefect.
"""

from __future__ import annotations

import os
import sys

import typer

from runbook_cli.lazy_group import Declared, LazyGroup

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no phoning home

COMMANDS: tuple[Declared, ...] = (
    Declared(
        "validate",
        "runbook_cli.runbooks",
        "Check runbooks; print OK per file or every problem, exit 1 if any file has one.",
    ),
    Declared(
        "plan",
        "runbook_cli.runbooks",
        "Dry run: params, the order steps run in, gates, failure handlers; touches no data.",
    ),
    Declared(
        "graph",
        "runbook_cli.runbooks",
        "Draw the step graph: gates as diamonds, failure handlers apart.",
    ),
    Declared(
        "schema",
        "runbook_cli.runbooks",
        "Print (or write) the JSON Schema of the runbook language.",
    ),
    Declared(
        "run",
        "runbook_cli.runbooks",
        "Run the runbook now against the configured Prefect API (or a local ephemeral one).",
    ),
    Declared(
        "steps",
        "runbook_cli.steps",
        "The step types, their params, outputs and role (one in full when named).",
    ),
    Declared(
        "oncall",
        "runbook_cli.oncall",
        "Who is on call (primary, backup) week by week from --at, and why.",
    ),
    Declared(
        "audit",
        "runbook_cli.audit",
        "Print everything the ledger holds about one incident: steps, approvals, publications.",
    ),
    Declared(
        "report",
        "runbook_cli.report",
        "Incidents, times to detect, evidence, first answer, approval and republish (median and\n"
        "worst, from the failure), SLA met/missed, escalations and refusals.",
    ),
    Declared(
        "docs",
        "runbook_cli.docs",
        "Write one Markdown page per runbook (owners, SLA, triggers, step graph, steps, checks,\n"
        "gate, failure handling) and an index.",
    ),
    Declared(
        "approve",
        "runbook_cli.approval",
        "Approve a paused run (the same checks as the Resume form in the Prefect UI).",
    ),
    Declared(
        "reject",
        "runbook_cli.approval",
        "Reject a paused run: nothing is published and the incident stays open.",
    ),
    Declared(
        "approval-page",
        "runbook_cli.approval",
        "Serve the approval page the signed links in approvers' messages open (from a phone).",
        attr="approval_page",
    ),
    Declared(
        "deployments",
        "runbook_cli.deployments",
        "List every deployment with what starts it; print or write prefect.yaml.",
    ),
    Declared(
        "serve",
        "runbook_cli.deployments",
        "Serve every deployment of the application here until Ctrl-C or SIGTERM.",
    ),
    Declared(
        "door",
        "runbook_cli.deployments",
        "Run the event door alone, beside a work pool's workers (`runbook serve` runs its own).",
    ),
    Declared(
        "emit",
        "runbook_cli.emit",
        "Deliver a `pipeline.failed` event; exit 1 unless the Prefect server took it.",
    ),
    Declared(
        "demo",
        "runbook_cli.demo.command",
        "Break a pipeline, recover it with its runbook, approve, republish, show the audit.",
    ),
    Declared(
        "rehearse",
        "runbook_cli.rehearse",
        "Break pipelines on purpose in scratch copies, let the runbooks recover, compare.",
    ),
    Declared(
        "retry",
        "runbook_cli.retry",
        "Run the incident's runbook again under the same incident and SLA clock.",
    ),
    Declared(
        "annotate",
        "runbook_cli.annotate",
        "Record why a partition's numbers moved, then re-run its checks.",
    ),
    Declared(
        "portal",
        "runbook_cli.portal",
        "The investor portal: serve it, list publications, inject faults.",
        attr="app",
    ),
    Declared(
        "incidents",
        "runbook_cli.incidents",
        "Open incidents, and closing one by hand.",
        attr="app",
    ),
    Declared("data", "runbook_cli.data", "Sample data and the warehouse schema.", attr="app"),
    Declared(
        "fault",
        "runbook_cli.fault",
        "Fault injection for the reference pipelines.",
        attr="app",
    ),
    Declared("pipeline", "runbook_cli.pipeline", "The five reference pipelines.", attr="app"),
)


class RunbookGroup(LazyGroup):
    """The commands of `runbook`."""

    DECLARED = COMMANDS


app = typer.Typer(
    name="runbook",
    help="Pipeline recovery runbooks: validate, plan, run, approve and publish.",
    cls=RunbookGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    pass


def main() -> None:
    """The `runbook` console script: the app, a database it cannot reach told in one line.

    The one-line translation needs SQLAlchemy; it is imported only when a command failed
    after SQLAlchemy was loaded, so fast commands never pay for it.
    """
    try:
        app()
    except Exception as error:
        if "sqlalchemy" in sys.modules:
            from runbook_cli.unreachable import tell_unreachable

            tell_unreachable(error)
        raise
