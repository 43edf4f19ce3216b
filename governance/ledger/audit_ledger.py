"""The audit ledger: append-only records of incidents, steps, approvals, publications, notices.

Writers call one method per fact; nothing a later reader needs is updated in place, so the
story of an incident can always be told again (`runbook audit`). The incident's current
state is derived by query: its latest lifecycle event. Each part lives in its own module
(`incidents`, `keys`, `steps`, `approvals`, `publications`, `intents`, `notifications`,
`outcomes`); `Ledger` holds one of each on one database, plus the read-side views.

Opening a ledger runs no DDL: its schema is migrated by `upgrade_ledger` (the set-up
commands do it) and an un-migrated database is refused with the command to run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from foundation.engines import engine_for
from foundation.settings import AppSettings, get_settings
from governance.errors import LedgerError
from governance.ledger.approvals import DECISIONS, ApprovalLog
from governance.ledger.database import LedgerDatabase
from governance.ledger.incidents import IncidentLog
from governance.ledger.intents import IntentLog
from governance.ledger.keys import IncidentKeyLog
from governance.ledger.notifications import NotificationLog
from governance.ledger.outcomes import EventOutcomeLog
from governance.ledger.publications import PublicationLog
from governance.ledger.rows import now as _now
from governance.ledger.steps import StepLog
from governance.ledger.views import OpenIncident, StoryLine, incident_story, open_incidents
from governance.models import GovernanceConfig

__all__ = ["DECISIONS", "Ledger", "LedgerError"]


class Ledger:
    """The audit ledger in one database (SQLite or PostgreSQL), optionally in its own schema.

    It holds its parts, each a small log on the one database: `incidents` (lifecycle),
    `keys` (one open incident per partition), `steps`, `approvals`, `publications`,
    `intents`, `notifications` and `outcomes` (what became of every failure event).
    Opening runs no DDL: an un-migrated database is refused with the command to run.
    """

    def __init__(self, engine: Engine, schema: str | None = None, *, check: bool = True) -> None:
        self.db = LedgerDatabase(engine, schema, check=check)
        self.incidents = IncidentLog(self.db)
        self.keys = IncidentKeyLog(self.db, self.incidents)
        self.steps = StepLog(self.db)
        self.approvals = ApprovalLog(self.db)
        self.publications = PublicationLog(self.db)
        self.intents = IntentLog(self.db)
        self.notifications = NotificationLog(self.db)
        self.outcomes = EventOutcomeLog(self.db)

    @property
    def engine(self) -> Engine:
        """The ledger's engine (pinned to its schema, if it has one)."""
        return self.db.engine

    @property
    def schema(self) -> str | None:
        return self.db.schema

    def dispose(self) -> None:
        """Close pooled connections."""
        self.db.dispose()

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
        """Unresolved incidents with owner, on-call, state and SLA; see `views`."""
        return open_incidents(self, config, now or _now())

    def incident_story(self, incident_id: int) -> list[StoryLine]:
        """Everything recorded about an incident in time order; see `views`."""
        return incident_story(self, incident_id)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()
