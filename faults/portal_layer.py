"""A portal served with faults: the fault plan's admin API and the ASGI layer that obeys it.

The product portal (`portal.app.create_app`) does no fault work; this wraps it for drills,
the rehearsal and tests (`runbook portal serve --faults`). The layer looks up the plan once
per request before the portal sees it; the admin and health endpoints are never faulted,
so a plan can always be inspected and cleared.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from faults.portal_plan import (
    FAULT_PLAN,
    DropFault,
    FaultState,
    FaultStore,
    RateLimitFault,
    SlowFault,
    StatusFault,
    upgrade_fault_plan,
)
from portal.app import check_token, create_app
from portal.config import PortalConfig


def portal_with_faults(config: PortalConfig) -> ASGIApp:
    """The portal behind its fault layer, with `/admin/faults`; sets up the plan's table."""
    api = create_app(config)
    store = FaultStore(api.state.store.engine)
    upgrade_fault_plan(store.engine)
    api.include_router(_admin_routes(store, config))
    return FaultInjection(api, store)


def app_from_settings() -> ASGIApp:
    """Uvicorn factory (`faults.portal_layer:app_from_settings`) for multi-worker serving."""
    return portal_with_faults(PortalConfig.from_settings())


def _admin_routes(store: FaultStore, config: PortalConfig) -> APIRouter:
    def require_admin(authorization: Annotated[str | None, Header()] = None) -> None:
        check_token(authorization, config.admin_token or config.token)

    routes = APIRouter(prefix="/admin/faults", dependencies=[Depends(require_admin)])

    @routes.get("")
    def get_faults() -> list[FaultState]:
        return store.list()

    @routes.post("")
    async def set_faults(request: Request) -> list[FaultState]:
        """Replace the plan with one rule or a list of rules, applied in order."""
        try:
            rules = FAULT_PLAN.validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(422, json.loads(exc.json(include_url=False))) from exc
        return await run_in_threadpool(store.replace, rules if isinstance(rules, list) else [rules])

    @routes.delete("")
    def clear_faults() -> dict[str, int]:
        store.clear()
        return {"cleared": 1}

    return routes


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
