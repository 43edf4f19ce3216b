"""Publication intents: the ledger knows what is about to reach the portal before it does.

A publish step records its intent (release key, sha256 of the bytes, approvers) before the
request, and settles it with the portal's receipts in the transaction that records them, so
the ledger and the portal cannot disagree silently: an intent left open means the ledger went
away mid-publish, and reconciliation (`flows.operations.publication_reconcile`) asks the portal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from governance.ledger import schema as t
from governance.ledger.database import LedgerPart
from governance.ledger.records import PublicationIntent
from governance.ledger.rows import new_id, now

PUBLISHED = "published"
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class IntentLog(LedgerPart):
    """The publication intents part of the ledger."""

    def record(
        self,
        incident_id: int,
        key: str,
        pipeline: str,
        partition: str,
        report_sha256: str,
        feed_sha256: str | None,
        approved_by: list[str],
    ) -> int:
        """Record an intent; earlier open intents of the same key are superseded by it."""
        i = t.publication_intents
        at = now()
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(i)
                .where(i.c.idempotency_key == key, i.c.settled_at.is_(None))
                .values(settled_at=at, outcome=SUPERSEDED)
            )
            row = {
                "incident_id": incident_id, "idempotency_key": key, "pipeline": pipeline,
                "partition": partition, "report_sha256": report_sha256,
                "feed_sha256": feed_sha256, "approved_by": ",".join(approved_by),
                "recorded_at": at,
            }  # fmt: skip
            return new_id(conn.execute(sa.insert(i).values(row)))

    def settle(self, intent_id: int, receipts: list[dict[str, Any]]) -> bool:
        """Record the portal's receipts for an intent and mark it published, in one go; False
        when it was settled already (nothing written).

        Each receipt: `kind`, `receipt_id`, `sha256`, `version`, `published_at`.
        """
        i, p = t.publication_intents, t.publications
        with self.engine.begin() as conn:
            intent = conn.execute(sa.select(i).where(i.c.id == intent_id)).mappings().one()
            if intent["settled_at"] is not None:
                return False  # another writer (the run, a reconciliation) recorded it first
            for receipt in receipts:
                row = {
                    "incident_id": intent["incident_id"],
                    "pipeline": intent["pipeline"],
                    "partition": intent["partition"],
                    **receipt,
                }
                if not _on_record(conn, row):  # a retry republished the same version
                    conn.execute(sa.insert(p).values(row))
            conn.execute(
                sa.update(i).where(i.c.id == intent_id).values(settled_at=now(), outcome=PUBLISHED)
            )
        return True

    def unsettled(self, incident_id: int | None = None) -> list[PublicationIntent]:
        """Intents without a receipt on record (of one incident, or all), oldest first."""
        i = t.publication_intents
        query = sa.select(i).where(i.c.settled_at.is_(None)).order_by(i.c.id)
        if incident_id is not None:
            query = query.where(i.c.incident_id == incident_id)
        with self.engine.connect() as conn:
            return [PublicationIntent(**r._mapping) for r in conn.execute(query)]


def _on_record(conn: sa.Connection, row: dict[str, Any]) -> bool:
    """Whether the ledger holds this receipt of this series already: the portal answers a
    repeated publication with the receipt it gave the first time, and a version is recorded
    once however often a crashed run published it again."""
    p = t.publications
    query = sa.select(p.c.id).where(
        p.c.pipeline == row["pipeline"],
        p.c.partition == row["partition"],
        p.c.kind == row["kind"],
        p.c.receipt_id == row["receipt_id"],
    )
    return conn.execute(query.limit(1)).first() is not None


def receipt_row(kind: str, receipt_id: str, sha256: str, version: int | None,
                published_at: datetime) -> dict[str, Any]:  # fmt: skip
    """One receipt as `settle_intent` takes it."""
    if published_at.tzinfo is None:  # the ledger keeps aware times only
        published_at = published_at.replace(tzinfo=UTC)
    return {"kind": kind, "receipt_id": receipt_id, "sha256": sha256, "version": version,
            "published_at": published_at}  # fmt: skip
