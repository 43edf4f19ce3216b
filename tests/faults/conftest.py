"""Fixtures: the shared sample warehouse (as in tests/warehouse) and a portal over real HTTP.

The fault layer is installed for the session, as `RUNBOOK_FAULTS=on` would install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

import faults
from faults.portal_admin import PortalFaultAdmin
from portal.client import PortalClient
from portal.retry import RetryPolicy
from portal.server import PortalServer
from tests.portal.conftest import (  # noqa: F401  (portal fixtures reused here)
    TOKEN,
    SleepRecorder,
    fast_retry,
    partition,
    portal,
    portal_config,
    sleeps,
)
from tests.warehouse import sample
from warehouse.db import Platform


@pytest.fixture(scope="session", autouse=True)
def fault_layer() -> Iterator[None]:
    with faults.enabled():
        yield


@pytest.fixture(scope="session")
def data_dir(request: pytest.FixtureRequest) -> Path:
    """The session's data folder (activity logs, backups, outputs)."""
    return sample.data_dir(request)


@pytest.fixture(scope="session", params=sample.backend_params())
def engine(request: pytest.FixtureRequest, data_dir: Path) -> Engine:
    """A warehouse with `small` sample data."""
    return sample.engine(request, request.param, data_dir)


@pytest.fixture
def platform(engine: Engine, data_dir: Path) -> Platform:
    """The sample warehouse with the session's config."""
    return sample.platform_of(engine, data_dir)


@pytest.fixture
def clean(platform: Platform) -> Iterator[Platform]:
    """The sample warehouse, with every injected fault undone after the test."""
    yield platform
    faults.clear_faults(platform, data=True)


@pytest.fixture
def admin(portal: PortalServer) -> Iterator[PortalFaultAdmin]:  # noqa: F811
    """The portal's fault plan, empty before and after the test."""
    with PortalFaultAdmin(portal.url, TOKEN) as plan:
        plan.clear_faults()
        yield plan
        plan.clear_faults()


@pytest.fixture
def client(
    portal: PortalServer,  # noqa: F811
    sleeps: SleepRecorder,  # noqa: F811
    fast_retry: RetryPolicy,  # noqa: F811
    admin: PortalFaultAdmin,
) -> Iterator[PortalClient]:
    """A client with fast backoff, facing an empty fault plan."""
    with PortalClient(portal.url, TOKEN, timeout=5.0, retry=fast_retry, sleep=sleeps) as c:
        yield c
