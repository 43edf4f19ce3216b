"""The fault plan: how the portal is told to misbehave, and the ASGI layer that obeys it.

Rules are kept in the portal database, consumed in order, one request at a time, with an
atomic decrement, so every worker process and a restarted server follow the same plan.
A rule targets publish requests by default (`target: "all"` also hits reads); the admin
and health endpoints are never faulted, so a plan can always be inspected and cleared.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import Engine, delete, insert, or_, select, update
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.database import faults


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


def _is_publish(scope: Scope) -> bool:
    return scope["method"] == "POST" and scope["path"].startswith(
        ("/api/reports", "/api/feeds", "/api/releases")
    )


def _exempt(scope: Scope) -> bool:
    return scope["path"].startswith(("/admin", "/healthz"))


class FaultInjection:
    """Outermost ASGI app: applies the fault plan before the portal sees the request."""

    def __init__(self, app: ASGIApp, store: FaultStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _exempt(scope):
            await self.app(scope, receive, send)
            return
        rule = await run_in_threadpool(self.store.take, _is_publish(scope))
        if isinstance(rule, SlowFault):
            await asyncio.sleep(rule.delay)
        elif isinstance(rule, StatusFault):
            await _respond(send, rule.status, {"error": "injected_fault", "status": rule.status})
            return
        elif isinstance(rule, RateLimitFault):
            headers = [(b"retry-after", str(rule.retry_after).encode())]
            await _respond(send, 429, {"error": "rate_limited"}, headers)
            return
        elif isinstance(rule, DropFault) and await _drop(send):
            return
        await self.app(scope, receive, send)


async def _respond(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _drop(send: Send) -> bool:
    """Close the client's TCP connection without a byte of response.

    ASGI has no verb for this, so reach uvicorn's connection (its `send` is a bound method
    of the request cycle, which holds the transport) and wait until uvicorn has noticed,
    so it does not answer with a 500 instead. Returns False on servers without a transport.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0.001)
    return True
