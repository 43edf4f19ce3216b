"""Publications: what the investor portal accepted for an incident, with its receipt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.records import Publication
from governance.ledger.rows import now, to_record


@dataclass(frozen=True)
class PublicationLog(LedgerPart):
    """The publications part of the ledger."""

    def record(
        self,
        incident_id: int,
        pipeline: str,
        partition: str,
        kind: str,
        receipt_id: str,
        sha256: str,
        *,
        published_at: datetime | None = None,
        version: int | None = None,
    ) -> Publication:
        """Append what the portal accepted, with its receipt."""
        row: dict[str, Any] = {
            "incident_id": incident_id,
            "pipeline": pipeline,
            "partition": partition,
            "kind": kind,
            "receipt_id": receipt_id,
            "sha256": sha256,
            "version": version,
            "published_at": published_at or now(),
        }
        return Publication(id=self._insert(t.publications, row), **row)

    def of_incident(self, incident_id: int) -> list[Publication]:
        """Everything published for an incident."""
        p = t.publications
        query = sa.select(p).where(p.c.incident_id == incident_id).order_by(p.c.id)
        with self.engine.connect() as conn:
            return [to_record(Publication, r._mapping) for r in conn.execute(query)]
