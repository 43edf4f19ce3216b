"""Notify engineers on their configured channels and record every attempt in the ledger.

Webhooks get a JSON POST (chat tools and pagers accept these). Email goes out only when an
SMTP server is given (`RUNBOOK_SMTP_URL=smtp://host:port`, handed in by the run's services);
otherwise the attempt is recorded as not delivered, so the audit shows nobody was reached that
way. Each attempt goes to a `NotificationLog`: in a run, the incident recorder (the one writer
of an incident's story); the ledger itself satisfies the protocol too.

Sending blocks (HTTP, SMTP): async callers run `notify`/`notify_all` in a worker thread.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from governance.ledger_records import Notification
from governance.models import GovernanceConfig

NO_SMTP = "no SMTP configured"
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
    """Sends to engineers by name, using the contacts in the governance file."""

    def __init__(
        self,
        config: GovernanceConfig,
        log: NotificationLog,
        *,
        smtp_url: str | None = None,
        smtp_from: str = DEFAULT_FROM,
        timeout: float = 5.0,
    ) -> None:
        self.config = config
        self.log = log
        self.smtp_url = smtp_url
        self.smtp_from = smtp_from
        self.timeout = timeout

    def notify(
        self,
        engineer: str,
        reason: str,
        text: str,
        *,
        incident_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> list[Notification]:
        """Send `text` to one engineer on every channel they have; one ledger row per channel."""
        contact = self.config.engineers.get(engineer)
        if contact is None:
            return [
                self._record(
                    engineer,
                    "none",
                    None,
                    reason,
                    incident_id,
                    False,
                    f"unknown engineer '{engineer}'",
                )
            ]
        sent = []
        if contact.webhook is not None:
            url = str(contact.webhook)
            body = {
                "engineer": engineer,
                "reason": reason,
                "text": text,
                "incident_id": incident_id,
                **(payload or {}),
            }
            ok, detail = self._post(url, body)
            sent.append(self._record(engineer, "webhook", url, reason, incident_id, ok, detail))
        if contact.email is not None:
            ok, detail = self._mail(contact.email, reason, text)
            sent.append(
                self._record(engineer, "email", contact.email, reason, incident_id, ok, detail)
            )
        return sent

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
        return [
            n
            for engineer in dict.fromkeys(engineers)
            for n in self.notify(engineer, reason, text, incident_id=incident_id, payload=payload)
        ]

    def _post(self, url: str, body: Mapping[str, Any]) -> tuple[bool, str]:
        try:
            response = httpx.post(url, json=dict(body), timeout=self.timeout)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return response.is_success, f"HTTP {response.status_code}"

    def _mail(self, to: str, reason: str, text: str) -> tuple[bool, str]:
        if not self.smtp_url:
            return False, NO_SMTP
        parts = urlsplit(self.smtp_url)
        message = EmailMessage()
        message["From"], message["To"] = self.smtp_from, to
        message["Subject"] = f"[runbook] {reason}"
        message.set_content(text)
        try:
            with smtplib.SMTP(
                parts.hostname or "localhost", parts.port or 25, timeout=self.timeout
            ) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, "sent"

    def _record(
        self,
        engineer: str,
        channel: str,
        target: str | None,
        reason: str,
        incident_id: int | None,
        delivered: bool,
        detail: str,
    ) -> Notification:
        return self.log.record_notification(
            engineer,
            channel,
            reason,
            delivered=delivered,
            incident_id=incident_id,
            target=target,
            detail=detail,
        )
