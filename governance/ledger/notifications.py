"""Notifications: every attempt to reach an engineer, delivered or not (and why not)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.records import Notification
from governance.ledger.rows import now, to_record


@dataclass(frozen=True)
class NotificationLog(LedgerPart):
    """The notifications part of the ledger."""

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
    ) -> Notification:
        """Append one notification attempt, delivered or not (then `detail` says why)."""
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "recipient": recipient,
            "channel": channel,
            "target": target,
            "reason": reason,
            "sent_at": sent_at or now(),
            "delivered": delivered,
            "detail": detail,
        }
        return Notification(id=self._insert(t.notifications, row), **row)

    def of_incident(self, incident_id: int) -> list[Notification]:
        """Notifications about an incident, in the order sent."""
        n = t.notifications
        query = sa.select(n).where(n.c.incident_id == incident_id).order_by(n.c.sent_at, n.c.id)
        with self.engine.connect() as conn:
            return [to_record(Notification, r._mapping) for r in conn.execute(query)]
