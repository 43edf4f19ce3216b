"""Verified answers on a real Prefect server: in production a typed name never opens a gate.

The gate of these runs may be answered by C or D; each receives their own approval code on
their own webhook (the shipped governance with webhook contacts). Someone who is not on call
("E") types C's name through REST resume and through `runbook approve --as C`; C's code is
tried by D, for another run, after its expiry and twice. Every one of these is refused as
unverified and recorded; only C's own code opens the gate, and the report is published once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prefect.settings import PREFECT_API_URL
from typer.testing import CliRunner

from foundation.settings import temporary_settings
from governance.approval_codes import CodeScope, issue_code
from governance.ledger.audit_ledger import Ledger
from runbook_cli.main import app
from tests.approval.conftest import GatedRun, wait_until_paused
from tests.e2e.conftest import Webhook, governance, webhook  # noqa: F401  (module fixtures)

pytestmark = [pytest.mark.prefect]

SECRET = "test-approval-secret"


@pytest.fixture
def production(governance: object) -> Iterator[None]:  # noqa: F811
    """The production profile: approval codes required, signed with the test's secret."""
    with temporary_settings(profile="production", approval_secret=SECRET):
        yield


def code_sent_to(webhook: Webhook, engineer: str, run: GatedRun) -> str:  # noqa: F811
    """The approval code `engineer` received privately for this run."""
    webhook.wait_for(lambda: bool(_codes(webhook, engineer, run)), 30, f"a code for {engineer}")
    return _codes(webhook, engineer, run)[-1]


def _codes(webhook: Webhook, engineer: str, run: GatedRun) -> list[str]:  # noqa: F811
    return [
        body["approval_code"]
        for body in webhook.bodies(engineer)
        if body.get("reason") == "approval_code" and body.get("flow_run_id") == run.flow_run_id
    ]


def answers(ledger: Ledger, run: GatedRun) -> list[tuple[str, bool, str | None]]:
    return [
        (a.who, a.authorized, a.reason)
        for r in ledger.approvals.requests_of_run(run.flow_run_id)
        for a in ledger.approvals.answers(r.id)
    ]


def wait_for_answers(ledger: Ledger, run: GatedRun, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(answers(ledger, run)) < count:
        assert time.monotonic() < deadline, f"the gate did not rule: {answers(ledger, run)}"
        time.sleep(0.25)


def resume_by_rest(run: GatedRun, run_input: dict[str, str]) -> None:
    """What any client that reaches the API can send: Prefect's own resume endpoint."""
    wait_until_paused(run.flow_run_id)
    url = f"{PREFECT_API_URL.value()}/flow_runs/{run.flow_run_id}/resume"
    response = httpx.post(url, json={"run_input": run_input}, timeout=30)
    assert response.status_code == 201, response.text


def refused(verdict: object, why: str) -> None:
    assert verdict is not None and not verdict.accepted, verdict  # type: ignore[attr-defined]
    assert why in verdict.detail, verdict.detail  # type: ignore[attr-defined]


@pytest.mark.timeout(240)
def test_only_the_approvers_own_code_opens_the_gate_and_it_publishes_once(
    production: None,
    start_gated: Callable[..., GatedRun],
    webhook: Webhook,  # noqa: F811
    ledger: Ledger,
) -> None:
    run = start_gated(approvers="C, D")
    code = code_sent_to(webhook, "C", run)
    assert code.startswith("C.") and code != code_sent_to(webhook, "D", run)

    resume_by_rest(run, {"approver": "C", "decision": "approve"})  # E types C's name
    wait_for_answers(ledger, run, 1)
    wait_until_paused(run.flow_run_id)  # the refusal is recorded a moment before it re-pauses
    cli = CliRunner().invoke(app, ["approve", run.flow_run_id, "--as", "C"])
    assert cli.exit_code == 1 and "unverified: a typed name is not an identity" in cli.output
    refused(run.answer("D", code=code), "this approval code was issued to C, not to 'D'")
    other = CodeScope("00000000-0000-0000-0000-000000000000", "approve", _later())
    refused(run.answer("C", code=issue_code(SECRET.encode(), other, "C")), "not valid for this")
    expired = CodeScope(run.flow_run_id, "approve", datetime.now(UTC) - timedelta(seconds=1))
    refused(run.answer("C", code=issue_code(SECRET.encode(), expired, "C")), "code expired")
    forged = issue_code(b"a guessed secret", CodeScope(run.flow_run_id, "approve", _later()), "C")
    refused(run.answer("C", code=forged), "not valid for this run's gate")
    assert not run.target.exists()

    verdict = run.answer("C", comment="counts match", code=code)
    assert verdict is not None and verdict.accepted, verdict
    state = run.final_state()
    assert state.is_completed() and run.target.read_text() != ""
    assert state.result()["steps"]["approve"]["outputs"]["approvers"] == ["C"]
    ruled = answers(ledger, run)
    assert [(who, ok) for who, ok, _ in ruled] == [("C", False)] * 2 + [
        ("D", False),
        ("C", False),
        ("C", False),
        ("C", False),
        ("C", True),
    ]
    assert all(why and why.startswith("unverified: ") for _, ok, why in ruled if not ok)


@pytest.mark.timeout(240)
def test_a_code_counts_once(
    production: None,
    start_gated: Callable[..., GatedRun],
    webhook: Webhook,  # noqa: F811
) -> None:
    run = start_gated(needed=2, approvers="C, D")
    code = code_sent_to(webhook, "C", run)
    assert run.answer("C", code=code).accepted  # type: ignore[union-attr]
    refused(run.answer("C", code=code), "C has already approved")
    assert not run.target.exists()
    assert run.answer("D", code=code_sent_to(webhook, "D", run)).accepted  # type: ignore[union-attr]
    assert run.final_state().is_completed() and run.target.exists()


@pytest.mark.timeout(120)
def test_without_the_secret_a_production_gate_never_opens(
    governance: object,  # noqa: F811
    start_gated: Callable[..., GatedRun],
) -> None:
    with temporary_settings(profile="production", approval_secret=None):
        run = start_gated(approvers="C, D")
        state = run.final_state()
    assert state.is_failed() and "RUNBOOK_APPROVAL_SECRET is not set" in (state.message or "")
    assert not run.target.exists()


def _later() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)
