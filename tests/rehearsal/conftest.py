"""Fixtures: a rehearsal template per backend (built once), scratch copies, the fault layer,
and a scratch world (warehouse, ledger, portal) for stories told outside the matrix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from foundation.settings import get_settings
from governance.ledger.audit_ledger import Ledger
from portal.client import PortalClient
from rehearsal.play import scratch
from rehearsal.workspace import Backend, Template, build_template, remove_template
from tests.warehouse.fixtures import fault_layer  # noqa: F401  (shared fixture)
from tests.warehouse.sample import PG_URL
from warehouse.db import Platform

SLA = timedelta(seconds=30)
"""Each pipeline's SLA, compressed: half of what is left is a waiting step's budget, so a cause
that goes away 2 s into the runbook is waited for even when a loaded machine runs slowly."""


@pytest.fixture(scope="session")
def templates() -> Iterator[Callable[[Backend], Template]]:
    """Build a backend's template on first use; drop them all at the end."""
    built: dict[str, Template] = {}

    def template(backend: Backend) -> Template:
        if backend not in built:
            try:
                built[backend] = build_template(SLA, backend, PG_URL)
            except Exception as exc:  # PostgreSQL not reachable
                if backend == "postgres":
                    pytest.skip(f"PostgreSQL not reachable: {exc}")
                raise
        return built[backend]

    yield template
    for template in built.values():
        remove_template(template)


@pytest.fixture
def world(prefect_server: None, templates: Callable[[Backend], Template]) -> Iterator[Any]:
    """Scratch warehouse, ledger and portal; the platform, ledger and a portal client on them."""
    with scratch(templates("sqlite")):
        settings = get_settings()
        platform = Platform.from_settings(settings)
        ledger = Ledger.from_url(settings.audit_url())
        portal = PortalClient(settings.portal.portal_url, settings.portal.portal_token)
        try:
            yield platform, ledger, portal
        finally:
            portal.close()
            ledger.dispose()
            platform.dispose()
