"""The approval page: a gate answered from a phone through the signed link in a message.

Each approver's message carries `/answer/<flow run>?code=<their approval code>`. The page
shows the same evidence as the Resume form (the paused run's description) and sends the
answer exactly as `runbook approve` does (`flows.approval.answering`): the gate checks the
code like any other answer, so the page needs no secret and proves nothing by itself; a link
used by someone else, twice, after its expiry or for another run is refused by the gate and
recorded under its pause. The page holds the Prefect API login; the phone needs none.

The page asks who is answering rather than filling the name in from the link: someone who
was forwarded the link and answers as themselves is refused as not its holder. Where answers
must be verified, the evidence is shown only to a link whose code was signed for this run's
gate (checked with the same secret as the gate's): a run id alone shows nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

from flows.approval.answering import AnswerError, answer_gate
from foundation.settings import ApprovalSettings
from governance.approval_codes import CodeScope, code_refusal
from governance.ledger.audit_ledger import Ledger

VERDICT_WAIT_SECONDS = 60.0
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")
_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;padding:12px;max-width:860px;line-height:1.4}
table{border-collapse:collapse;display:block;overflow-x:auto}
td,th{border:1px solid #ccc;padding:2px 6px}
pre{overflow-x:auto}
input,textarea,button{font-size:1.05rem;width:100%;box-sizing:border-box;margin:4px 0;padding:10px}
.buttons{display:flex;gap:8px}
.verdict{padding:10px;border-radius:6px}
.accepted{background:#e4f6e4}.refused{background:#fbe3e3}
"""


def approval_page(
    ledger: Ledger, approval: ApprovalSettings, wait_seconds: float = VERDICT_WAIT_SECONDS
) -> FastAPI:
    """The page's app: the evidence and the form at GET, the answer at POST."""
    app = FastAPI(title="Approval page", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/answer/{flow_run_id}", response_class=HTMLResponse)
    async def show(flow_run_id: str, code: str = "") -> HTMLResponse:
        refusal = await anyio.to_thread.run_sync(link_refusal, ledger, approval, flow_run_id, code)
        if refusal is not None:
            return _page("Link not valid", _verdict(False, refusal), status=403)
        waiting, evidence = await _evidence(flow_run_id)
        if not waiting:
            return _page("Nothing to answer", f"<p>{escape(evidence)}</p>", status=409)
        return _page("Approval", f"{_form(flow_run_id, code)}<hr>{_MARKDOWN.render(evidence)}")

    @app.post("/answer/{flow_run_id}", response_class=HTMLResponse)
    async def answer(flow_run_id: str, request: Request) -> HTMLResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        who, decision = form.get("approver", "").strip(), form.get("decision", "")
        if not who or decision not in ("approve", "reject"):
            return _page("Incomplete", "<p>Enter your name and choose approve or reject.</p>", 400)
        try:
            verdict = await answer_gate(
                flow_run_id,
                who,
                decision,
                form.get("comment", ""),
                ledger,
                wait_seconds,
                code=form.get("code", ""),
            )
        except AnswerError as exc:
            return _page("Not counted", _verdict(False, str(exc)), status=409)
        if verdict is None:
            text = "answer delivered; the run rules on it once it runs again (see runbook audit)"
            return _page("Delivered", _verdict(True, text), status=202)
        status = 200 if verdict.accepted else 403
        return _page(
            "Answer counted" if verdict.accepted else "Refused",
            _verdict(verdict.accepted, verdict.detail),
            status=status,
        )

    return app


def link_refusal(
    ledger: Ledger, approval: ApprovalSettings, flow_run_id: str, code: str
) -> str | None:
    """Why this link may not see the run's evidence (None: it may).

    Only the signature is checked here: a genuine code that expired or was forwarded still
    reaches the gate, which refuses it and records why under its pause."""
    if not approval.codes_required:
        return None
    secret = approval.approval_secret
    if secret is None or not secret.get_secret_value():
        return "this page cannot check links: RUNBOOK_APPROVAL_SECRET is not set on its host"
    holder = code.strip().rsplit(".", 2)[0]
    if not holder:
        return "this link carries no approval code: open the link in the message sent to you"
    gates: dict[str, CodeScope] = {}
    for request in ledger.approvals.requests_of_run(flow_run_id):  # oldest first
        if request.step_id and request.timeout_at and request.step_id not in gates:
            gates[request.step_id] = CodeScope(flow_run_id, request.step_id, request.timeout_at)
    key, now = secret.get_secret_value().encode(), datetime.now(UTC)
    for scope in gates.values():
        why = code_refusal(key, scope, holder, code, now)
        if why is None or why.startswith("this approval code expired"):
            return None
    return "this link is not valid for this run's gate"


async def _evidence(flow_run_id: str) -> tuple[bool, str]:
    """(True, the evidence markdown) of a paused run; (False, why not) otherwise."""
    async with get_client() as client:
        try:
            run = await client.read_flow_run(UUID(flow_run_id))
        except (ObjectNotFound, ValueError):
            return False, f"no flow run {flow_run_id}"
        state = run.state
        if state is None or not state.is_paused():
            name = state.name if state else "unknown"
            return False, f"flow run {flow_run_id} is not waiting for an answer (state: {name})"
        key = (state.state_details.run_input_keyset or {}).get("description")
        return True, await _read_text(client, run.id, key) if key else ""


async def _read_text(client: Any, flow_run_id: UUID, key: str) -> str:
    """The stored description (JSON text); empty while Prefect has not saved it yet."""
    try:
        raw = await client.read_flow_run_input(flow_run_id, key)
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code == 404:
            return ""
        raise
    value = json.loads(raw)
    return value if isinstance(value, str) else ""


def _form(flow_run_id: str, code: str) -> str:
    """Name, comment and the two decisions; the code rides along from the link."""
    action = f"/answer/{escape(flow_run_id)}"
    proof = (
        "<p>The approval code in this link proves who you are: it counts once, only for the "
        "engineer it was sent to, until the gate's deadline.</p>"
        if code
        else ""
    )
    return (
        f'{proof}<form method="post" action="{action}">'
        f'<input type="hidden" name="code" value="{escape(code)}">'
        "<label>Your name (as in governance.yaml)"
        '<input name="approver" autocomplete="off" required></label>'
        '<label>Comment (kept in the audit ledger)<textarea name="comment" rows="2"></textarea>'
        '</label><div class="buttons">'
        '<button name="decision" value="approve">Approve</button>'
        '<button name="decision" value="reject">Reject</button></div></form>'
    )


def _verdict(accepted: bool, detail: str) -> str:
    kind = "accepted" if accepted else "refused"
    return f'<p class="verdict {kind}">{escape(detail)}</p>'


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status)
