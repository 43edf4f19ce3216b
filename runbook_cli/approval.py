"""`runbook approve` / `runbook reject`: answer a paused gate from the terminal."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import typer

from flows.approval.answering import AnswerError, after_delivery, answer_gate
from flows.runtime.run_services import open_command_services
from foundation.settings import get_settings
from runbook_cli.prefect_api import api_errors, require_api

WAIT_SECONDS = 60.0
CODE = typer.Option(
    "", "--code", help="Your approval code, sent to you privately (required in production)"
)  # a suspended run needs a runner to start it again before it rules


def _answer(flow_run_id: str, who: str, decision: str, comment: str, code: str) -> None:
    require_api()  # the paused run lives on the server: no API, no answer
    try:
        with api_errors(), open_command_services() as services:
            verdict = asyncio.run(
                answer_gate(
                    flow_run_id, who, decision, comment, services.ledger, WAIT_SECONDS, code=code
                )
            )
        if verdict is None:
            with api_errors():
                verdict = asyncio.run(after_delivery(flow_run_id))
    except AnswerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if verdict is None:
        typer.echo(
            "answer delivered; the run has not ruled on it yet: it continues once `runbook "
            "serve` (or a worker) runs it again (see `runbook audit`)"
        )
        return
    typer.echo(verdict.detail)
    if not verdict.accepted:
        raise typer.Exit(1)


def approve(
    flow_run_id: str = typer.Argument(..., help="The paused flow run"),
    who: str = typer.Option(..., "--as", help="Your name in governance.yaml"),
    comment: str = typer.Option("", "--comment", help="Kept in the audit ledger"),
    code: str = CODE,
) -> None:
    """Approve a paused run (the same checks as the Resume form in the Prefect UI)."""
    _answer(flow_run_id, who, "approve", comment, code)


def reject(
    flow_run_id: str = typer.Argument(..., help="The paused flow run"),
    who: str = typer.Option(..., "--as", help="Your name in governance.yaml"),
    comment: str = typer.Option("", "--comment", help="Why; kept in the audit ledger"),
    code: str = CODE,
) -> None:
    """Reject a paused run: nothing is published and the incident stays open."""
    _answer(flow_run_id, who, "reject", comment, code)


def approval_page(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
    port: int | None = typer.Option(
        None, "--port", help="Port (default: that of RUNBOOK_APPROVAL_PAGE_URL, else 8780)"
    ),
) -> None:
    """Serve the approval page the signed links in approvers' messages open (from a phone).

    Set RUNBOOK_APPROVAL_PAGE_URL on the hosts that run gates to the address people reach
    this page at, so the links point here. The page needs the Prefect API (and its login)
    and the audit ledger, like `runbook approve`, and the workers' RUNBOOK_APPROVAL_SECRET to
    check a link before it shows the evidence.
    """
    import uvicorn

    from flows.approval.page import approval_page as page_app

    require_api()
    approval = get_settings().approval
    chosen = port or page_port(approval.approval_page_url)
    with open_command_services() as services:
        typer.echo(f"approval page on http://{host}:{chosen}/answer/<flow run>?code=<code>")
        app = page_app(services.ledger, approval)
        uvicorn.run(app, host=host, port=chosen, log_level="warning")


def page_port(url: str | None) -> int:
    """The port in the approval page's public URL (8780 when it names none)."""
    parts = urlsplit(url or "")
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme, 8780)
