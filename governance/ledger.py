"""The audit ledger: append-only records of incidents, steps, approvals, publications, notices.

Writers call one method per fact; nothing a later reader needs is updated in place, so the
story of an incident can always be told again (`runbook audit`). The incident's current
state is derived by query: its latest lifecycle event. Each part lives in its own module
(`ledger_incidents`, `ledger_keys`, `ledger_steps`, `ledger_approvals`, `ledger_publications`,
`ledger_intents`, `ledger_notifications`); `Ledger` is all of them on one database, plus the
read-side views.

Opening a ledger runs no DDL: its schema is migrated by `upgrade_ledger` (the set-up
commands do it) and an un-migrated database is refused with the command to run.
"""

from __future__ import annotations

from datetime import datetime

from foundation.engines import engine_for
from foundation.settings import AppSettings, get_settings
from governance.errors import LedgerError
from governance.ledger_approvals import DECISIONS, ApprovalLog
from governance.ledger_intents import IntentLog
from governance.ledger_keys import IncidentKeyLog
from governance.ledger_notifications import NotificationLog
from governance.ledger_outcomes import EventOutcomeLog
from governance.ledger_publications import PublicationLog
from governance.ledger_rows import now as _now
from governance.ledger_steps import StepLog
from governance.ledger_views import OpenIncident, StoryLine, incident_story, open_incidents
from governance.models import GovernanceConfig

__all__ = ["DECISIONS", "Ledger", "LedgerError"]


class Ledger(
    IncidentKeyLog,
    StepLog,
    ApprovalLog,
    PublicationLog,
    IntentLog,
    NotificationLog,
    EventOutcomeLog,
):
    """The audit ledger in one database (SQLite or PostgreSQL), optionally in its own schema."""

    @classmethod
    def from_url(cls, url: str, schema: str | None = None) -> Ledger:
        """The ledger at `url` (WAL and a busy timeout on SQLite; `schema` on PostgreSQL)."""
        return cls(engine_for(url, schema))

    @classmethod
    def from_settings(cls, settings: AppSettings | None = None) -> Ledger:
        """The configured audit database (RUNBOOK_AUDIT_URL, else the warehouse)."""
        return cls.from_url((settings or get_settings()).audit_url())

    def open_incidents(
        self, config: GovernanceConfig, now: datetime | None = None
    ) -> list[OpenIncident]:
        """Unresolved incidents with owner, on-call, state and SLA; see `ledger_views`."""
        return open_incidents(self, config, now or _now())

    def incident_story(self, incident_id: int) -> list[StoryLine]:
        """Everything recorded about an incident in time order; see `ledger_views`."""
        return incident_story(self, incident_id)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()
