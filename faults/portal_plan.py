"""The portal's fault plan: how a portal served with faults is told to misbehave.

Rules are kept in the portal database, consumed in order, one request at a time, with an
atomic decrement, so every worker process and a restarted server follow the same plan.
A rule targets publish requests by default (`target: "all"` also hits reads). The table
belongs to the fault layer, with migrations of its own (`faults/portal_migrations`, version
table `alembic_version_portal_faults`): a product portal never has it, a portal served with
faults gets it (`upgrade_fault_plan`), and one made before this split is adopted as it is.
The layer that obeys the plan is `faults.portal_layer`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    or_,
    select,
    update,
)

from foundation.migrations import MigratedStore, upgrade

FAULT_PLAN_HEAD = "portal_faults_0001"

FAULT_PLAN_STORE = MigratedStore(
    name="portal fault plan",
    script_location=Path(__file__).resolve().parent / "portal_migrations",
    version_table="alembic_version_portal_faults",
    head=FAULT_PLAN_HEAD,
    lock_id=0x90A7A2,
    setup_command="runbook portal serve --faults",
    baseline="portal_faults_0001",
    baseline_tables=("portal_faults",),
)

fault_plan_metadata = MetaData()
faults = Table(
    "portal_faults",
    fault_plan_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", Text, nullable=False),
    Column("target", String(16), nullable=False),
    Column("remaining", Integer),  # NULL: until cleared
    Column("fired", Integer, nullable=False, default=0),
)


def upgrade_fault_plan(engine: Engine) -> str | None:
    """Add (or adopt) the fault plan's table in a portal database; safe from many workers."""
    return upgrade(FAULT_PLAN_STORE, engine)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int | None = Field(default=1, ge=1, description="requests to fault; null until cleared")
    target: Literal["publish", "all"] = "publish"


class StatusFault(_Rule):
    """Answer with an error status (a 5xx outage by default)."""

    mode: Literal["status"]
    status: int = Field(default=503, ge=400, le=599)


class RateLimitFault(_Rule):
    """Answer 429 Too Many Requests with a Retry-After header (seconds)."""

    mode: Literal["rate_limit"]
    retry_after: int = Field(default=1, ge=0, le=3600)


class SlowFault(_Rule):
    """Wait before handling the request normally (to trip client timeouts)."""

    mode: Literal["slow"]
    delay: float = Field(gt=0, le=600)


class DropFault(_Rule):
    """Close the connection without sending any response."""

    mode: Literal["drop"]


FaultRule = Annotated[
    StatusFault | RateLimitFault | SlowFault | DropFault, Field(discriminator="mode")
]
FAULT_RULE: TypeAdapter[FaultRule] = TypeAdapter(FaultRule)
FAULT_PLAN: TypeAdapter[FaultRule | list[FaultRule]] = TypeAdapter(FaultRule | list[FaultRule])


def parse_fault(text: str) -> FaultRule:
    """A fault rule from JSON (`{"mode": "drop"}`) or shorthand (`mode=status,status=503`).

    In shorthand, `count=forever` means until cleared.
    """
    text = text.strip()
    if text.startswith("{"):
        return FAULT_RULE.validate_json(text)
    values: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault option {part!r} is not name=value")
        values[name.strip()] = None if value in {"forever", "null"} else _scalar(value.strip())
    return FAULT_RULE.validate_python(values)


def _scalar(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


class FaultState(BaseModel):
    """One rule of the plan and how far it has been consumed."""

    id: int
    rule: FaultRule
    remaining: int | None
    fired: int


class FaultStore:
    """The fault plan in the portal database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def replace(self, rules: list[FaultRule]) -> list[FaultState]:
        """Make `rules` the whole plan, consumed in the given order."""
        with self.engine.begin() as conn:
            conn.execute(delete(faults))
            for rule in rules:
                conn.execute(
                    insert(faults).values(
                        rule=rule.model_dump_json(),
                        target=rule.target,
                        remaining=rule.count,
                        fired=0,
                    )
                )
        return self.list()

    def clear(self) -> None:
        """Remove every rule: the portal behaves again."""
        with self.engine.begin() as conn:
            conn.execute(delete(faults))

    def list(self) -> list[FaultState]:
        """The plan, including exhausted rules (remaining 0), in order."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(faults).order_by(faults.c.id)).all()
        return [
            FaultState(id=r.id, rule=json.loads(r.rule), remaining=r.remaining, fired=r.fired)
            for r in rows
        ]

    def take(self, is_publish: bool) -> FaultRule | None:
        """Consume one request's worth of the first live rule that applies, if any."""
        targets = ["all", "publish"] if is_publish else ["all"]
        live = or_(faults.c.remaining.is_(None), faults.c.remaining > 0)
        first = (
            select(faults.c.id)
            .where(live, faults.c.target.in_(targets))
            .order_by(faults.c.id)
            .limit(1)
            .scalar_subquery()
        )
        with self.engine.begin() as conn:
            rule = conn.execute(
                update(faults)
                .where(faults.c.id == first, live)
                .values(remaining=faults.c.remaining - 1, fired=faults.c.fired + 1)
                .returning(faults.c.rule)
            ).scalar()
        return None if rule is None else FAULT_RULE.validate_json(rule)
