"""The approval page from a phone: the signed link in an approver's message, a phone's screen.

A PostgreSQL-backed Prefect server runs for the module, and the approval page beside it (as
`runbook serve` serves it when RUNBOOK_APPROVAL_PAGE_URL is set). In the production profile a
gate needing two approvals (C and D) sends each their own link on their own webhook. Headless
Chromium with a phone's viewport and touch opens the links: C's link used by D, C's link after
its expiry, C's link twice — each refused by the gate and recorded under its pause; a link made
for another run, or the run's address without a code, shows no evidence at all; C's and D's own
answers count and the report is published once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from flows.approval.identity import answer_link
from flows.approval.page_server import ApprovalPageServer
from flows.runtime.run_services import open_command_services
from foundation.settings import get_settings, temporary_settings
from governance.approval_codes import CodeScope, issue_code
from governance.models import GovernanceConfig
from testing.prefect_server import LocalServer
from tests.e2e.browser import launch_chromium
from tests.e2e.conftest import GatedRun, Webhook, run_async, start_server

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

SECRET = "phone-test-secret"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(governance: GovernanceConfig) -> Iterator[LocalServer]:
    yield from start_server("runbook_e2e_phone", ui=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture
def approval_page(server: LocalServer) -> Iterator[ApprovalPageServer]:
    """The page on a free port, holding the API login and the ledger, like `runbook serve`."""
    approval = get_settings().approval.model_copy(
        update={"profile": "production", "approval_secret": SecretStr(SECRET)}
    )
    with open_command_services() as services, ApprovalPageServer(services.ledger, approval) as page:
        yield page


@pytest.fixture
def phone(browser: Browser, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A phone's screen and touch, in a fresh context; a screenshot when the test fails."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3
    )
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        try:
            page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
            print(f"screenshot of the failing page: {tmp_path / 'phone.png'}")
        except Exception as exc:  # a dead browser must not hide the test's own failure
            print(f"no screenshot: {exc}")
    context.close()


def link_sent_to(webhook: Webhook, engineer: str, run: GatedRun) -> str:
    """The approval page link `engineer` received privately for this run."""

    def links() -> list[str]:
        return [
            body["approval_link"]
            for body in webhook.bodies(engineer)
            if body.get("reason") == "approval_code" and body.get("flow_run_id") == run.flow_run_id
        ]

    webhook.wait_for(lambda: bool(links()), 30, f"a link for {engineer}")
    [link] = links()
    return link


def answer_on_phone(phone: Page, link: str, who: str, decision: str = "Approve") -> str:
    """Open the link, check the evidence fits the phone, type the name, tap; the verdict."""
    phone.goto(link)
    expect(phone.get_by_text("Who may answer")).to_be_visible()
    fits = phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the approval page scrolls sideways on a phone"
    phone.get_by_label("Your name").fill(who)
    phone.get_by_role("button", name=decision, exact=True).tap()
    verdict = phone.locator(".verdict")
    verdict.wait_for()
    return verdict.inner_text()


def answers(run: GatedRun) -> list[tuple[str, bool, str | None]]:
    with open_command_services() as services:
        ledger = services.ledger
        return [
            (a.who, a.authorized, a.reason)
            for r in ledger.approvals.requests_of_run(run.flow_run_id)
            for a in ledger.approvals.answers(r.id)
        ]


@pytest.mark.timeout(420)
def test_from_a_phone_only_each_approvers_own_link_counts_once(
    approval_page: ApprovalPageServer,
    phone: Page,
    start_gated: Callable[..., GatedRun],
    webhook: Webhook,
) -> None:
    settings = {"profile": "production", "approval_secret": SECRET}
    with temporary_settings(**settings, approval_page_url=approval_page.url):
        run = start_gated("approvers: [C, D], min_approvals: 2, poll_interval: 1")
        run.wait_paused("approve-1")
        mine = link_sent_to(webhook, "C", run)
        assert mine.startswith(f"{approval_page.url}/answer/{run.flow_run_id}?code=C.")
        [sent] = [b for b in webhook.bodies("C") if b.get("approval_link") == mine]
        text = sent.get("message", "")
        assert mine in text, text  # the link is in the message a chat or mail shows

        said = answer_on_phone(phone, mine, "D")  # C's link forwarded to D
        assert "refused: unverified: this approval code was issued to C, not to 'D'" in said
        expired = CodeScope(run.flow_run_id, "approve", datetime.now(UTC) - timedelta(seconds=1))
        stale = answer_link(approval_page.url, run.flow_run_id, _code(expired))
        assert "code expired at" in answer_on_phone(phone, stale, "C")
        # a link made for another run, or the run's address alone, shows no evidence at all
        elsewhere = CodeScope("00000000-0000-0000-0000-000000000000", "approve", _later())
        foreign = answer_link(approval_page.url, run.flow_run_id, _code(elsewhere))
        assert phone.goto(foreign).status == 403  # type: ignore[union-attr]
        expect(phone.get_by_text("not valid for this run's gate")).to_be_visible()
        assert phone.goto(f"{approval_page.url}/answer/{run.flow_run_id}").status == 403  # type: ignore[union-attr]
        expect(phone.get_by_text("Who may answer")).to_have_count(0)
        assert not run.target.exists()

        assert answer_on_phone(phone, mine, "C") == "approve by C recorded"
        assert "C has already approved" in answer_on_phone(phone, mine, "C")  # used twice
        theirs = link_sent_to(webhook, "D", run)
        assert answer_on_phone(phone, theirs, "D") == "approve by D recorded"
        state = run.final_state()
    assert state.is_completed(), state
    assert run.target.exists()
    assert run_async(state.aresult())["steps"]["approve"]["outputs"]["approvers"] == ["C", "D"]
    ruled = answers(run)
    assert [(who, ok) for who, ok, _ in ruled] == [
        ("D", False),
        ("C", False),
        ("C", True),
        ("C", False),
        ("D", True),
    ]
    assert all(why and why.startswith("unverified: ") for _, ok, why in ruled[:2])
    phone.goto(mine)  # the run ended: the link opens nothing to answer
    expect(phone.get_by_text("is not waiting for an answer")).to_be_visible()


def _code(scope: CodeScope) -> str:
    return issue_code(SECRET.encode(), scope, "C")


def _later() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)
