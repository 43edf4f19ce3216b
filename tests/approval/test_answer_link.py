"""The approval page's link: what an approver's message carries so a phone can answer."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.approval.identity import answer_link
from governance.notification import messages
from runbook_cli.approval import page_port


def test_the_link_carries_the_code_escaped_and_names_the_run() -> None:
    link = answer_link("https://approvals.example.com/", "run-1", "C D.tn0q2k.K7D2/+")
    assert link == "https://approvals.example.com/answer/run-1?code=C%20D.tn0q2k.K7D2%2F%2B"


def test_the_code_message_leads_with_the_link_when_the_page_is_served() -> None:
    until = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    link = "https://approvals.example.com/answer/run-1?code=C.x.Y"
    ui = "http://prefect:4200/runs/flow-run/run-1"
    message = messages.approval_code("aggregate_profit", 7, "C", "C.x.Y", "run-1", until, ui, link)
    assert "Answer on your phone: " + link in message.text
    assert "runbook approve run-1 --as C --code C.x.Y" in message.text
    assert message.fields()["approval_link"] == link and message.link == link
    without = messages.approval_code("aggregate_profit", 7, "C", "C.x.Y", "run-1", until, ui)
    assert "approval_link" not in without.fields() and without.link == ui
    assert "phone" not in without.text


def test_the_page_listens_on_the_port_of_its_public_url() -> None:
    assert page_port("https://approvals.example.com") == 443
    assert page_port("http://10.0.0.5:9000/") == 9000
    assert page_port(None) == 8780
