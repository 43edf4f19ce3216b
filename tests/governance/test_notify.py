"""Notifications through Apprise to real local endpoints (JSON webhook, SMTP), each attempt in
the ledger with its outcome."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from governance.errors import GovernanceConfigError
from governance.ledger.audit_ledger import Ledger
from governance.models import GovernanceConfig
from governance.notification import messages
from governance.notification.notify import NO_SMTP, Notifier
from tests.governance.conftest import Webhook, make_config


def _config(c_contact: str) -> GovernanceConfig:
    """The base config with C's contact replaced by `c_contact` (a YAML flow mapping body)."""
    return make_config(replace={"C: {email: c@example.com}": f"C: {{{c_contact}}}"})


def _json_url(webhook: Webhook, path: str = "/hook") -> str:
    return webhook.url.replace("http://", "json://").replace("/hook", path)


def test_an_apprise_json_url_gets_the_message_and_its_fields(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    incident = sqlite_ledger.incidents.open("aggregate_profit", "etl_failure", datetime.now(UTC)).id
    notifier = Notifier(
        _config(f"notify: ['{_json_url(webhook, '/c')}']"), sqlite_ledger.notifications
    )
    message = messages.escalation(
        "aggregate_profit", incident, timedelta(minutes=30), "http://ui/runs/flow-run/r1"
    )
    [sent] = notifier.send(message, ["C"])
    [post] = webhook.received
    body = post["body"]
    assert post["path"] == "/c"
    assert body["title"] == "[runbook] Escalation: aggregate_profit approval unanswered"
    assert body["message"] == (
        f"Nobody has answered the approval of aggregate_profit (incident {incident}) for 30m. "
        "Please review\nhttp://ui/runs/flow-run/r1"
    )
    assert body["type"] == "warning"
    assert (body["reason"], body["incident_id"], body["pipeline"]) == (
        "escalation", str(incident), "aggregate_profit",
    )  # fmt: skip
    assert body["link"] == "http://ui/runs/flow-run/r1"
    assert (sent.recipient, sent.channel, sent.delivered, sent.detail) == (
        "C",
        "json",
        True,
        "sent",
    )
    [recorded] = sqlite_ledger.notifications.of_incident(incident)
    assert (recorded.reason, recorded.delivered) == ("escalation", True)
    assert recorded.target == _json_url(webhook, "/c")


def test_a_webhook_contact_is_a_json_post_and_email_without_smtp_is_recorded_undelivered(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    incident = sqlite_ledger.incidents.open("aggregate_profit", "etl_failure", datetime.now(UTC)).id
    config = _config(f"email: c@example.com, webhook: '{webhook.url}'")
    sent = Notifier(config, sqlite_ledger.notifications).notify(
        "C", "approval_requested", "aggregate_profit waits for you", incident_id=incident,
        payload={"flow_run_id": "run-1"},
    )  # fmt: skip
    [post] = webhook.received
    assert post["body"]["message"] == "aggregate_profit waits for you"
    assert post["body"]["reason"] == "approval_requested"
    assert post["body"]["flow_run_id"] == "run-1"
    assert [(n.channel, n.target, n.delivered, n.detail) for n in sent] == [
        ("json", webhook.url, True, "sent"),
        ("mailto", "c@example.com", False, NO_SMTP),
    ]
    recorded = sqlite_ledger.notifications.of_incident(incident)
    assert [(n.recipient, n.channel, n.delivered) for n in recorded] == [
        ("C", "json", True), ("C", "mailto", False),
    ]  # fmt: skip


def test_a_failing_or_missing_endpoint_is_recorded_as_not_delivered_with_the_reason(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    webhook.status = 500
    failing = Notifier(_config(f"notify: ['{_json_url(webhook)}']"), sqlite_ledger.notifications)
    [attempt] = failing.notify("C", "escalation", "x")
    assert not attempt.delivered
    assert attempt.detail is not None and "error=500" in attempt.detail
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"json://127.0.0.1:{s.getsockname()[1]}/hook"
    gone = Notifier(_config(f"notify: ['{closed}']"), sqlite_ledger.notifications, timeout=5)
    [attempt] = gone.notify("C", "escalation", "x")
    assert not attempt.delivered
    assert attempt.detail is not None and "Connection error" in attempt.detail


def test_send_reaches_each_engineer_once_and_refuses_strangers(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    notifier = Notifier(_config(f"notify: ['{_json_url(webhook)}']"), sqlite_ledger.notifications)
    sent = notifier.notify_all(["C", "E", "C"], "escalation", "nobody answered")
    assert [(n.recipient, n.channel, n.delivered) for n in sent] == [
        ("C", "json", True), ("E", "none", False),
    ]  # fmt: skip
    assert sent[1].detail == "unknown engineer 'E'"
    assert len(webhook.received) == 1


def test_secrets_in_an_apprise_url_stay_out_of_the_ledger(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    url = _json_url(webhook).replace("json://", "json://bot:s3cret-token@")
    [attempt] = Notifier(_config(f"notify: ['{url}']"), sqlite_ledger.notifications).notify(
        "C", "escalation", "x"
    )
    assert attempt.delivered and attempt.channel == "json"
    assert attempt.target is not None and "s3cret-token" not in attempt.target
    assert attempt.target.startswith("json://bot:")


def test_a_url_apprise_cannot_send_to_is_an_error_at_its_line() -> None:
    with pytest.raises(GovernanceConfigError, match=r"test\.yaml:4:\d+: engineers\.C\.notify: "
                       r"'slak://\.\.\.' is not a URL Apprise can send to"):  # fmt: skip
        _config("notify: ['slak://T1/B2/C3']")


def test_every_kind_of_message_has_its_reason_and_severity() -> None:
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    made = [
        messages.approval_requested("p", 1, None),
        messages.escalation("p", 1, timedelta(minutes=30), None),
        messages.approval_timed_out("p", 1, timedelta(hours=2), None),
        messages.sla_threshold("p", 1, "data_quality", "2026-10", 0.5, "2h left", "recovering"),
        messages.sla_breached("p", 1, now),
        messages.runbook_notice("rb", "p", 1, "recovery failed", failed=True),
        messages.runbook_notice("rb", "p", 1, "all good", failed=False),
    ]
    assert [(m.ledger_reason, m.severity) for m in made] == [
        ("approval_requested", "info"),
        ("escalation", "warning"),
        ("approval_timed_out", "failure"),
        ("sla_threshold", "warning"),
        ("sla_breached", "failure"),
        ("runbook:rb", "failure"),
        ("runbook:rb", "info"),
    ]


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message."""

    def handle(self) -> None:
        self.wfile.write(b"220 test\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go\r\n")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.server.messages.append(body.decode())  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_email_goes_out_through_apprise_when_smtp_is_configured(
    smtp_server: socketserver.ThreadingTCPServer, sqlite_ledger: Ledger,
) -> None:  # fmt: skip
    smtp_url = f"smtp://127.0.0.1:{smtp_server.server_address[1]}"
    notifier = Notifier(make_config(), sqlite_ledger.notifications, smtp_url=smtp_url)
    [sent] = notifier.notify("A", "sla_threshold", "aggregate_profit: 1h left")
    assert (sent.channel, sent.target, sent.delivered, sent.detail) == (
        "mailto", "a@example.com", True, "sent",
    )  # fmt: skip
    [message] = smtp_server.messages  # type: ignore[attr-defined]
    assert "Subject: [runbook] sla threshold" in message
    assert "aggregate_profit: 1h left" in message


def test_two_contacts_with_one_url_are_sent_to_once(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    config = _config(f"webhook: '{webhook.url}', notify: ['{_json_url(webhook)}']")
    sent = Notifier(config, sqlite_ledger.notifications).notify("C", "escalation", "x")
    assert [(n.channel, n.delivered) for n in sent] == [("json", True), ("json", True)]
    assert len(webhook.received) == 1
