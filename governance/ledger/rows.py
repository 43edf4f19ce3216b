"""Between the ledger's rows and its records: ids, clock, JSON values and row mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from governance.ledger.records import ApprovalRequest, IncidentEvent


def new_id(result: sa.CursorResult[Any]) -> int:
    """The primary key an insert produced."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def now() -> datetime:
    """Now, timezone-aware (the ledger refuses naive times)."""
    return datetime.now(UTC)


def jsonable(value: Any) -> Any:
    """Round-trip through JSON so what is stored is what a reader gets back (dates as text)."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def to_record(cls: type, row: Mapping[Any, Any]) -> Any:
    """A record dataclass from a row (the bookkeeping column `recorded_at` left out)."""
    return cls(**{k: v for k, v in row.items() if k != "recorded_at"})


def to_event(row: Mapping[Any, Any]) -> IncidentEvent:
    """An incident event, its JSON detail decoded."""
    detail = row["detail"]
    return IncidentEvent(
        id=row["id"],
        incident_id=row["incident_id"],
        state=row["state"],
        at=row["at"],
        actor=row["actor"],
        detail=None if detail is None else json.loads(detail),
    )


def to_request(row: Mapping[Any, Any]) -> ApprovalRequest:
    """An approval request, its approvers as a tuple."""
    data = {k: v for k, v in row.items() if k != "recorded_at"}
    data["approvers"] = tuple(data["approvers"])
    return ApprovalRequest(**data)
