"""The product portal does no fault work per request; the portal served with faults does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event
from starlette.types import ASGIApp

from faults.portal_layer import portal_with_faults
from portal.app import create_app
from portal.config import PortalConfig
from portal.database import portal_engine, upgrade_portal
from portal.server import PortalServer

READS = ("/", "/api/publications", "/api/publications/aggregate_profit/2026-01/report")


def _recording(build: Callable[[PortalConfig], ASGIApp], seen: list[str]) -> Callable:
    """`build`, with every SQL statement the app's engine runs appended to `seen`."""

    def recorded(config: PortalConfig) -> ASGIApp:
        app = build(config)
        inner = getattr(app, "app", app)  # the fault layer wraps the portal's FastAPI app
        event.listen(
            inner.state.store.engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: seen.append(statement),
        )
        return app

    return recorded


@pytest.fixture
def config(tmp_path: Path) -> Iterator[PortalConfig]:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = portal_engine(url)
    upgrade_portal(engine)
    engine.dispose()
    yield PortalConfig(db_url=url, token="t")


def _read_everything(url: str) -> None:
    for path in READS:
        assert httpx.get(f"{url}{path}").status_code in {200, 404}


def test_the_product_portal_reads_without_touching_a_fault_plan(config: PortalConfig) -> None:
    seen: list[str] = []
    with PortalServer(config, build=_recording(create_app, seen)) as portal:
        _read_everything(portal.url)
        assert httpx.get(f"{portal.url}/admin/faults").status_code == 404
    assert seen and not [s for s in seen if "portal_faults" in s]


def test_the_portal_served_with_faults_consults_its_plan_on_every_request(
    config: PortalConfig,
) -> None:
    seen: list[str] = []
    with PortalServer(config, build=_recording(portal_with_faults, seen)) as portal:
        _read_everything(portal.url)
        plan = httpx.get(f"{portal.url}/admin/faults", headers={"Authorization": "Bearer t"})
        assert plan.status_code == 200 and plan.json() == []
    taken = [s for s in seen if "UPDATE portal_faults" in s]
    assert len(taken) == len(READS)
