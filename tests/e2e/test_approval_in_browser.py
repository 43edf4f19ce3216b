"""The approval gate in the real Prefect UI: headless Chromium clicks Resume and fills the form.

A PostgreSQL-backed Prefect server with its UI runs for the module; an investor runbook runs
to its gate; Debian's chromium (driven by Playwright through its executable path, never a
downloaded browser) opens the flow run page, waits for the JavaScript UI, clicks Resume,
fills approver, decision and comment in the form Prefect generates from the RunInput model,
and submits. An authorized approver lets the run publish; anyone else is refused and the run
pauses again with the refusal at the top of the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from foundation.settings import temporary_settings
from governance.models import GovernanceConfig
from testing.prefect_server import LocalServer
from tests.e2e.browser import launch_chromium
from tests.e2e.conftest import GatedRun, Webhook, run_async, start_server

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture(scope="module")
def server(governance: GovernanceConfig) -> Iterator[LocalServer]:
    yield from start_server("runbook_e2e_browser", ui=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture
def page(browser: Browser, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context; on failure its screenshot lands in the test's tmp dir."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        shot = tmp_path / "page.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            (tmp_path / "page.html").write_text(page.content(), encoding="utf-8")
            print(f"screenshot of the failing page: {shot}")
        except Exception as exc:  # a dead browser must not hide the test's own failure
            print(f"no screenshot: {exc}")
    context.close()


def open_resume_form(page: Page, server: LocalServer, run: GatedRun) -> Locator:
    """Open the run page, wait for the UI to render, click Resume; return the dialog."""
    page.goto(f"{server.ui_url}/runs/flow-run/{run.flow_run_id}")
    resume = page.get_by_role("button", name="Resume", exact=True)
    resume.wait_for(state="visible")  # the page is built by JavaScript after load
    resume.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Resume Flow Run").wait_for()
    # the evidence (the pause's description) and the form render a moment after the dialog
    dialog.get_by_text("Approve republishing").wait_for()
    field(dialog, "Approver").locator("textarea").wait_for()
    return dialog


def field(dialog: Locator, label: str) -> Locator:
    """The form property whose label starts with `label` (Prefect's schema form)."""
    return dialog.locator(".schema-form-property").filter(
        has=dialog.page.locator(".schema-form-property__label", has_text=re.compile(rf"^{label}\b"))
    )


def submit_answer(
    page: Page, dialog: Locator, approver: str, decision: str, comment: str, code: str = ""
) -> None:
    field(dialog, "Approver").locator("textarea").fill(approver)
    if code:
        field(dialog, "Code").locator("textarea").fill(code)
    # the select opens from the keyboard (a synthetic click toggles it open and shut again)
    field(dialog, "Decision").locator("button.p-select-button__control").focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=decision, exact=True).click()
    expect(field(dialog, "Decision").locator(".p-select-button__value")).to_have_text(decision)
    field(dialog, "Comment").locator("textarea").fill(comment)
    dialog.get_by_role("button", name="Submit", exact=True).click()
    dialog.wait_for(state="hidden")


@pytest.mark.timeout(300)
def test_authorized_approval_in_the_ui_continues_and_publishes(
    server: LocalServer, page: Page, start_gated: Callable[..., GatedRun]
) -> None:
    run = start_gated()
    run.wait_paused("approve-1")
    dialog = open_resume_form(page, server, run)
    expect(dialog).to_contain_text("Who may answer: A, B")
    assert not run.target.exists()
    submit_answer(page, dialog, "A", "approve", "counts match the source")
    state = run.final_state()
    assert state.is_completed(), state
    assert run.target.exists()
    outputs = run_async(state.aresult())["steps"]["approve"]["outputs"]
    assert outputs["approvers"] == ["A"]
    assert outputs["comments"] == ["counts match the source"]


@pytest.mark.timeout(300)
def test_unauthorized_answer_in_the_ui_is_refused_and_the_run_pauses_again(
    server: LocalServer, page: Page, start_gated: Callable[..., GatedRun]
) -> None:
    run = start_gated()
    run.wait_paused("approve-1")
    dialog = open_resume_form(page, server, run)
    submit_answer(page, dialog, "C", "approve", "looks fine to me")
    again = run.wait_paused("approve-2")
    refusal = "Answer from 'C' refused: 'C' may not answer this gate; authorized: A, B"
    assert refusal in (run.description(again) or "")
    assert not run.target.exists()
    # the UI shows the refusal on top of the evidence of the new pause
    dialog = open_resume_form(page, server, run)
    expect(dialog).to_contain_text(refusal)
    page.keyboard.press("Escape")
    verdict = run.answer("A", "reject", "cleaning up")
    assert verdict is not None and verdict.accepted
    state = run.final_state()
    assert state.is_failed() and state.name == "Rejected"
    assert not run.target.exists()


@pytest.mark.timeout(300)
def test_in_production_a_typed_name_is_refused_and_only_the_approvers_code_opens_the_gate(
    server: LocalServer, page: Page, start_gated: Callable[..., GatedRun], webhook: Webhook
) -> None:
    with temporary_settings(profile="production", approval_secret="browser-test-secret"):
        run = start_gated("approvers: [C, D], poll_interval: 1")
        run.wait_paused("approve-1")
        dialog = open_resume_form(page, server, run)
        expect(dialog).to_contain_text("a typed name alone is refused")
        submit_answer(page, dialog, "C", "approve", "E, not on call, types C's name")
        again = run.wait_paused("approve-2")
        assert "Answer from 'C' refused: unverified: a typed name" in (run.description(again) or "")
        assert not run.target.exists()
        [code] = [
            body["approval_code"]
            for body in webhook.bodies("C")
            if body.get("reason") == "approval_code" and body.get("flow_run_id") == run.flow_run_id
        ]
        dialog = open_resume_form(page, server, run)
        submit_answer(page, dialog, "C", "approve", "counts match the source", code=code)
        state = run.final_state()
    assert state.is_completed(), state
    assert run.target.exists()
    assert run_async(state.aresult())["steps"]["approve"]["outputs"]["approvers"] == ["C"]
