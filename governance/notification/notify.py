"""The one path every notification takes: a `Message`, Apprise delivery, a ledger row per attempt.

`Notifier.send(message, engineers)` reaches each engineer on every route the governance file
gives them (`governance.notification.delivery`: Apprise URLs, webhooks, email through the
configured SMTP server) and records each attempt, delivered or not and why, in a
`NotificationLog`: in a run, the incident recorder (the one writer of an incident's story);
the ledger's notifications part satisfies the protocol too. `notify`/`notify_all` take a
reason and a text for callers that build no `Message` themselves.

Sending blocks (HTTP, SMTP): async callers run these methods in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from governance.ledger.records import Notification
from governance.models import GovernanceConfig
from governance.notification.delivery import NO_SMTP, deliver, routes
from governance.notification.messages import Message, plain

__all__ = ["DEFAULT_FROM", "NO_SMTP", "NotificationLog", "Notifier"]

DEFAULT_FROM = "runbook@localhost"


class NotificationLog(Protocol):
    """Where notification attempts are recorded (the incident recorder, or a ledger)."""

    def record_notification(
        self,
        recipient: str,
        channel: str,
        reason: str,
        *,
        delivered: bool,
        incident_id: int | None = None,
        target: str | None = None,
        detail: str | None = None,
        sent_at: datetime | None = None,
    ) -> Notification: ...


class Notifier:
    """Sends messages to engineers by name, using the contacts in the governance file."""

    def __init__(
        self,
        config: GovernanceConfig,
        log: NotificationLog,
        *,
        smtp_url: str | None = None,
        smtp_from: str = DEFAULT_FROM,
        timeout: float = 10.0,
    ) -> None:
        self.config = config
        self.log = log
        self.smtp_url = smtp_url
        self.smtp_from = smtp_from
        self.timeout = timeout

    def send(self, message: Message, engineers: Iterable[str]) -> list[Notification]:
        """Deliver `message` to each engineer once, in order; one ledger row per attempt."""
        return [
            n for engineer in dict.fromkeys(engineers) for n in self._send_one(engineer, message)
        ]

    def _send_one(self, engineer: str, message: Message) -> list[Notification]:
        contact = self.config.engineers.get(engineer)
        if contact is None:
            return [
                self._record(
                    engineer, message, "none", None, False, f"unknown engineer '{engineer}'"
                )
            ]
        attempts = deliver(routes(contact, self.smtp_url, self.smtp_from), message, self.timeout)
        return [
            self._record(engineer, message, a.route.channel, a.route.target, a.delivered, a.detail)
            for a in attempts
        ]

    def notify(
        self,
        engineer: str,
        reason: str,
        text: str,
        *,
        incident_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> list[Notification]:
        """Send `text` to one engineer for `reason` (see `messages.plain`)."""
        return self.send(
            plain(reason, text, incident_id=incident_id, facts=payload or {}), [engineer]
        )

    def notify_all(
        self,
        engineers: Iterable[str],
        reason: str,
        text: str,
        *,
        incident_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> list[Notification]:
        """`notify` each engineer once, in order."""
        return self.send(
            plain(reason, text, incident_id=incident_id, facts=payload or {}), engineers
        )

    def _record(
        self,
        engineer: str,
        message: Message,
        channel: str,
        target: str | None,
        delivered: bool,
        detail: str,
    ) -> Notification:
        return self.log.record_notification(
            engineer,
            channel,
            message.ledger_reason,
            delivered=delivered,
            incident_id=message.incident_id,
            target=target,
            detail=detail,
        )
