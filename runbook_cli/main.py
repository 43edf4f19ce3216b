"""The `runbook` command: a thin layer over the project's facades.

Each command group lives in its own module of this package and is mounted here, so a
reader finds `runbook data ...` in `runbook_cli/data.py` and so on.
"""

from __future__ import annotations

import os

import typer

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no phoning home

app = typer.Typer(
    name="runbook",
    help="Pipeline recovery runbooks: validate, plan, run, approve and publish.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
from runbook_cli.portal import app as portal_app  # noqa: E402

app.add_typer(portal_app, name="portal")

from runbook_cli.runbooks import register as register_runbook_commands  # noqa: E402

register_runbook_commands(app)
from runbook_cli.steps import register as register_steps_command  # noqa: E402

register_steps_command(app)
from runbook_cli.oncall import oncall  # noqa: E402

app.command("oncall")(oncall)
from runbook_cli.incidents import app as incidents_app  # noqa: E402

app.add_typer(incidents_app, name="incidents")
from runbook_cli.audit import audit  # noqa: E402

app.command("audit")(audit)
from runbook_cli.report import report  # noqa: E402

app.command("report")(report)
from runbook_cli.docs import register as register_docs_command  # noqa: E402

register_docs_command(app)

from runbook_cli.approval import register as register_approval_commands  # noqa: E402

register_approval_commands(app)

from runbook_cli.deployments import register as register_deployment_commands  # noqa: E402

register_deployment_commands(app)
from runbook_cli.data import app as data_app  # noqa: E402

app.add_typer(data_app, name="data")
from runbook_cli.fault import app as fault_app  # noqa: E402

app.add_typer(fault_app, name="fault")
from runbook_cli.pipeline import app as pipeline_app  # noqa: E402

app.add_typer(pipeline_app, name="pipeline")

from runbook_cli.demo import register as register_demo  # noqa: E402

register_demo(app)
from runbook_cli.rehearse import register as register_rehearse  # noqa: E402

register_rehearse(app)
from runbook_cli.annotate import register as register_annotate  # noqa: E402
from runbook_cli.retry import register as register_retry  # noqa: E402

register_retry(app)
register_annotate(app)


def main() -> None:
    """The `runbook` console script: the app, a database it cannot reach told in one line."""
    from runbook_cli.unreachable import stores_told_in_one_line

    with stores_told_in_one_line():
        app()
