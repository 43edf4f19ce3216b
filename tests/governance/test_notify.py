"""Notifications over real local endpoints (HTTP webhook, SMTP), each attempt in the ledger."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from governance.ledger import Ledger
from governance.models import GovernanceConfig
from governance.notify import NO_SMTP, Notifier
from tests.governance.conftest import Webhook, make_config


def _config(webhook_url: str, c_email: bool = True) -> GovernanceConfig:
    """C reachable by webhook (and email unless told otherwise)."""
    email = "email: c@example.com, " if c_email else ""
    return make_config(
        replace={"C: {email: c@example.com}": f"C: {{{email}webhook: '{webhook_url}'}}"}
    )


def test_webhook_receives_json_and_email_is_recorded_undelivered(
    webhook: Webhook, sqlite_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNBOOK_SMTP_URL", raising=False)
    incident = sqlite_ledger.open_incident("aggregate_profit", "etl_failure", datetime.now(UTC)).id
    notifier = Notifier(_config(webhook.url), sqlite_ledger)
    sent = notifier.notify("C", "approval requested", "aggregate_profit waits for you",
                           incident_id=incident, payload={"flow_run_id": "run-1"})  # fmt: skip
    assert webhook.received == [{
        "path": "/hook",
        "body": {"engineer": "C", "reason": "approval requested",
                 "text": "aggregate_profit waits for you", "incident_id": incident,
                 "flow_run_id": "run-1"},
    }]  # fmt: skip
    assert [(n.channel, n.delivered, n.detail) for n in sent] == [
        ("webhook", True, "HTTP 204"),
        ("email", False, NO_SMTP),
    ]
    recorded = sqlite_ledger.notifications(incident)
    assert [(n.recipient, n.channel, n.delivered) for n in recorded] == [
        ("C", "webhook", True), ("C", "email", False),
    ]  # fmt: skip
    assert recorded[0].target == webhook.url


def test_a_failing_or_missing_endpoint_is_recorded_as_not_delivered(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    webhook.status = 500
    failing = Notifier(_config(webhook.url, c_email=False), sqlite_ledger)
    assert [(n.delivered, n.detail) for n in failing.notify("C", "escalation", "x")] == [
        (False, "HTTP 500")
    ]
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    gone = Notifier(_config(closed, c_email=False), sqlite_ledger, timeout=2)
    [attempt] = gone.notify("C", "escalation", "x")
    assert not attempt.delivered
    assert attempt.detail is not None and attempt.detail.startswith("ConnectError")


def test_notify_all_sends_once_per_engineer_and_refuses_strangers(
    webhook: Webhook, sqlite_ledger: Ledger
) -> None:
    notifier = Notifier(_config(webhook.url, c_email=False), sqlite_ledger)
    sent = notifier.notify_all(["C", "E", "C"], "escalation", "nobody answered")
    assert [(n.recipient, n.channel, n.delivered) for n in sent] == [
        ("C", "webhook", True), ("E", "none", False),
    ]  # fmt: skip
    assert sent[1].detail == "unknown engineer 'E'"
    assert len(webhook.received) == 1


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


def test_email_goes_out_when_smtp_is_configured(
    smtp_server: socketserver.ThreadingTCPServer, sqlite_ledger: Ledger,
) -> None:  # fmt: skip
    smtp_url = f"smtp://127.0.0.1:{smtp_server.server_address[1]}"
    notifier = Notifier(make_config(), sqlite_ledger, smtp_url=smtp_url)
    [sent] = notifier.notify("A", "sla 75%", "aggregate_profit: 1h left")
    assert (sent.channel, sent.target, sent.delivered, sent.detail) == (
        "email", "a@example.com", True, "sent",
    )  # fmt: skip
    [message] = smtp_server.messages  # type: ignore[attr-defined]
    assert "Subject: [runbook] sla 75%" in message
    assert "aggregate_profit: 1h left" in message
