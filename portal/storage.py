"""Durable, versioned, idempotent storage of publications.

One transaction per publish: look up the idempotency key, compare the request's
fingerprint (pipeline, partition, kind, checksum), and either replay the stored receipt,
refuse with a conflict, or write the next version. Racing writers (two workers, a client
retrying while its first attempt is still running) meet a unique constraint and redo the
lookup, so a key never yields two publications. A release (a report and its feed, approved
together) is stored in one transaction: the portal holds both or neither.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Row, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from foundation.errors import RecoveryError, TerminalError
from portal.content import Kind
from portal.database import idempotency_keys, publications, utcnow
from portal.models import PublicationHistory, PublicationSummary, PublishedContent, Receipt

_RECEIPT_COLUMNS = [c for c in publications.c if c.name != "content"]


class Outcome(StrEnum):
    """What a publish request did."""

    CREATED = "created"  # a new version was stored
    REPLAYED = "replayed"  # the idempotency key was seen before with the same content
    UNCHANGED = "unchanged"  # new key, but the latest version already has this content


class IdempotencyConflict(RecoveryError, TerminalError):
    """The idempotency key was used before for a different publication."""


@dataclass(frozen=True)
class Upload:
    """A validated upload, ready to store."""

    pipeline: str
    partition: str
    kind: Kind
    content: bytes
    sha256: str
    content_type: str
    rows: int | None
    idempotency_key: str


def _receipt(row: Row[Any]) -> Receipt:
    return Receipt.model_validate(row._mapping)


class PublicationStore:
    """Publications in the portal database; safe to share between threads and processes."""

    def __init__(self, engine: Engine, *, attempts: int = 5) -> None:
        self.engine = engine
        self.attempts = attempts

    def publish(self, upload: Upload) -> tuple[Receipt, Outcome]:
        """Store the upload once per idempotency key; raise IdempotencyConflict on key reuse."""
        ((receipt, outcome),) = self.publish_together([upload])
        return receipt, outcome

    def publish_together(self, uploads: list[Upload]) -> list[tuple[Receipt, Outcome]]:
        """Store every upload in one transaction, each once per its idempotency key.

        A conflict on any key stores none of them.
        """
        for attempt in range(self.attempts):
            try:
                with self.engine.begin() as conn:
                    return [self._store(conn, upload) for upload in uploads]
            except IntegrityError:
                if attempt == self.attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _store(self, conn: Any, upload: Upload) -> tuple[Receipt, Outcome]:
        seen = conn.execute(
            select(idempotency_keys).where(idempotency_keys.c.key == upload.idempotency_key)
        ).first()
        if seen is not None:
            fingerprint = (seen.pipeline, seen.partition, seen.kind, seen.sha256)
            if fingerprint != (upload.pipeline, upload.partition, upload.kind, upload.sha256):
                raise IdempotencyConflict(
                    f"idempotency key {upload.idempotency_key!r} was used for "
                    f"{seen.kind} {seen.pipeline}/{seen.partition} sha256 {seen.sha256[:12]}"
                )
            row = conn.execute(
                select(*_RECEIPT_COLUMNS).where(publications.c.id == seen.publication_id)
            ).one()
            return _receipt(row), Outcome.REPLAYED

        latest = conn.execute(
            select(*_RECEIPT_COLUMNS)
            .where(self._series(upload.pipeline, upload.partition, upload.kind))
            .order_by(publications.c.version.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.sha256 == upload.sha256:
            self._remember_key(conn, upload, latest.id)
            return _receipt(latest), Outcome.UNCHANGED

        publication_id = uuid.uuid4().hex
        values = {
            "id": publication_id,
            "pipeline": upload.pipeline,
            "partition": upload.partition,
            "kind": upload.kind,
            "version": 1 if latest is None else latest.version + 1,
            "sha256": upload.sha256,
            "size_bytes": len(upload.content),
            "rows": upload.rows,
            "content_type": upload.content_type,
            "content": upload.content,
            "stored_at": utcnow(),
        }
        conn.execute(insert(publications).values(**values))
        self._remember_key(conn, upload, publication_id)
        del values["content"]
        return Receipt.model_validate(values), Outcome.CREATED

    @staticmethod
    def _remember_key(conn: Any, upload: Upload, publication_id: str) -> None:
        conn.execute(
            insert(idempotency_keys).values(
                key=upload.idempotency_key,
                publication_id=publication_id,
                pipeline=upload.pipeline,
                partition=upload.partition,
                kind=upload.kind,
                sha256=upload.sha256,
                created_at=utcnow(),
            )
        )

    @staticmethod
    def _series(pipeline: str, partition: str, kind: str) -> Any:
        return and_(
            publications.c.pipeline == pipeline,
            publications.c.partition == partition,
            publications.c.kind == kind,
        )

    def summaries(self, pipeline: str | None = None) -> list[PublicationSummary]:
        """The latest version of every published series, ordered by pipeline and partition."""
        p = publications.c
        counts = (
            select(
                p.pipeline,
                p.partition,
                p.kind,
                func.max(p.version).label("latest"),
                func.count().label("versions"),
            )
            .group_by(p.pipeline, p.partition, p.kind)
            .subquery()
        )
        query = (
            select(*_RECEIPT_COLUMNS, counts.c.versions)
            .join(
                counts,
                and_(
                    p.pipeline == counts.c.pipeline,
                    p.partition == counts.c.partition,
                    p.kind == counts.c.kind,
                    p.version == counts.c.latest,
                ),
            )
            .order_by(p.pipeline, p.partition, p.kind)
        )
        if pipeline is not None:
            query = query.where(p.pipeline == pipeline)
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
        return [
            PublicationSummary(
                pipeline=row.pipeline,
                partition=row.partition,
                kind=row.kind,
                versions=row.versions,
                latest=_receipt(row),
            )
            for row in rows
        ]

    def history(self, pipeline: str, partition: str, kind: Kind) -> PublicationHistory | None:
        """Every version of one series, newest first; None when nothing was published."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(*_RECEIPT_COLUMNS)
                .where(self._series(pipeline, partition, kind))
                .order_by(publications.c.version.desc())
            ).all()
        if not rows:
            return None
        receipts = [_receipt(row) for row in rows]
        return PublicationHistory(
            pipeline=pipeline, partition=partition, kind=kind, latest=receipts[0], history=receipts
        )

    def content(
        self, pipeline: str, partition: str, kind: Kind, version: int | None = None
    ) -> PublishedContent | None:
        """The bytes of one version (the latest by default); None when there is none."""
        query = select(publications).where(self._series(pipeline, partition, kind))
        if version is None:
            query = query.order_by(publications.c.version.desc()).limit(1)
        else:
            query = query.where(publications.c.version == version)
        with self.engine.begin() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return PublishedContent(receipt=_receipt(row), content=row.content)
